import { ENGINE_FEATURES, type EngineFeature, type EngineName, type Support } from "@fulcrum/protocol";
import { Table, Td, Th } from "../ui";

const ENGINE_LABELS: Record<EngineName, string> = { builtin: "builtin", haproxy: "HAProxy" };

function Cell({ support }: { support: Support }) {
  if (support.supported) {
    return (
      <span className="text-emerald-700 dark:text-emerald-400" title={support.note}>
        ✓<span className="sr-only"> supported</span>
        {support.note ? (
          <span className="ml-1 text-xs text-zinc-500 dark:text-zinc-400">{support.note}</span>
        ) : null}
      </span>
    );
  }
  return (
    <span className="text-rose-700 dark:text-rose-400" title={support.reason}>
      ✗<span className="sr-only"> not supported</span>
      <span className="ml-1 text-xs text-zinc-500 dark:text-zinc-400">{support.reason}</span>
    </span>
  );
}

/**
 * Which options each data-plane engine runs, from the same table the agent
 * NACKs by (packages/protocol engine-support.ts). `keys` narrows it to the
 * features a form shows, e.g. the policies.
 */
export function EngineSupportTable({ keys }: { keys?: readonly string[] }) {
  const features: readonly EngineFeature[] = keys
    ? ENGINE_FEATURES.filter((f) => keys.includes(f.key))
    : ENGINE_FEATURES;
  const engines = Object.keys(ENGINE_LABELS) as EngineName[];
  return (
    <Table>
      <thead>
        <tr>
          <Th>Option</Th>
          {engines.map((e) => (
            <Th key={e}>{ENGINE_LABELS[e]}</Th>
          ))}
        </tr>
      </thead>
      <tbody>
        {features.map((f) => (
          <tr key={f.key}>
            <Td>{f.label}</Td>
            {engines.map((e) => (
              <Td key={e}>
                <Cell support={f.support[e]} />
              </Td>
            ))}
          </tr>
        ))}
      </tbody>
    </Table>
  );
}
