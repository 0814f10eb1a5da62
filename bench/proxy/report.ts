import type { HeyResult } from "./hey";
import type { IdleResult } from "./idle";
import type { Machine } from "./machine";
import type { Options } from "./options";
import type { WrkResult } from "./wrk";

export type TargetId = "nginx" | "haproxy-http" | "haproxy-tcp" | "agent-http" | "agent-tcp";

export interface FixedRate {
  readonly method: "hey-fixed-rate" | "wrk-saturated";
  readonly requestedRate: number;
  readonly achievedRate: number;
  readonly requests: number;
  readonly cpuSeconds: number;
  readonly cpuUsPerRequest: number;
  readonly hey?: HeyResult;
}

export interface TargetResult {
  readonly id: TargetId;
  readonly label: string;
  readonly layer: "L7" | "L4";
  readonly c64: WrkResult[];
  readonly c256: WrkResult[];
  /** Proxy CPU (its process tree) per request during each c64 run, µs. */
  readonly cpuUsPerRequestSaturated: number[];
  fixedRate?: FixedRate;
}

export interface Summary {
  readonly rps: number;
  readonly p99Ms: number;
  readonly p99c256Ms: number;
  readonly c256Timeouts: number;
  readonly vsNginx: number;
  readonly vsHaproxyTcp: number;
  readonly cpuUsPerRequestFixed: number;
  readonly cpuUsPerRequestSaturated: number;
}

export interface Goal {
  readonly name: string;
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | null;
}

export interface IdleReport extends IdleResult {
  readonly rssBeforeKiB: number;
  readonly rssAfterKiB: number;
  readonly rssAfterCloseKiB: number;
  readonly stillAnswers: boolean;
  readonly answerMs: number;
  readonly bytesPerConnection: number;
  /** Set when fewer than `target` connections could be held: before + bytes/connection × target. */
  readonly projectedRssAtTargetKiB: number | null;
}

export interface Results {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly command: string;
  readonly options: Options;
  readonly machine: Machine;
  readonly methods: Record<string, string>;
  readonly targets: TargetResult[];
  readonly summary: Record<string, Summary>;
  readonly goals: Goal[];
  readonly idle: IdleReport | null;
  readonly notes: string[];
}

/** A number as the tables print it ("–" for a measurement that did not happen). */
export const f = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "–";
export const mib = (kib: number) => `${f(kib / 1024, 1)} MiB`;

/** A Markdown table; columns listed in `left` are left-aligned, the others right-aligned. */
function table(head: string[], rows: string[][], left: readonly number[] = [0]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const l = (i: number) => left.includes(i);
  const line = (r: string[]) =>
    `| ${r.map((c, i) => (l(i) ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join(" | ")} |`;
  const rule = `|${w.map((n, i) => (l(i) ? `${"-".repeat(n + 2)}` : `${"-".repeat(n + 1)}:`)).join("|")}|`;
  return [line(head), rule, ...rows.map(line)].join("\n");
}

export function formatReport(r: Results): string {
  const out: string[] = [];
  const o = r.options;
  out.push(`Proxy benchmark — ${r.finishedAt}`);
  out.push(`command: ${r.command}`);
  out.push(
    `machine: ${r.machine.nproc} cores (${r.machine.cpuModel}), ${r.machine.memoryGiB} GiB, Linux ${r.machine.kernel}, Node ${r.machine.node}, ${r.machine.nginx}, ${r.machine.haproxy}, ${r.machine.wrk}, ${r.machine.hey}`,
  );
  out.push(
    `load: wrk -t2 -c64 -d${o.duration}s --latency (and -c256 for nginx and the agent), ${o.warmup} s warm-up before each run, ${o.rounds} interleaved rounds, median per target`,
  );
  out.push("");
  const fixedHead = r.targets.some((t) => t.fixedRate?.method === "hey-fixed-rate")
    ? `CPU µs/req @ ${f(o.rate)} req/s`
    : "CPU µs/req (wrk, saturated)";
  out.push(
    table(
      [
        "target",
        "req/s c64",
        "vs nginx",
        "vs HAProxy tcp",
        "p99 c64",
        "p99 c256",
        fixedHead,
        "CPU µs/req saturated",
      ],
      r.targets.map((t) => {
        const s = r.summary[t.id]!;
        return [
          t.label,
          f(s.rps),
          f(s.vsNginx, 2),
          f(s.vsHaproxyTcp, 2),
          `${f(s.p99Ms, 1)} ms`,
          Number.isFinite(s.p99c256Ms)
            ? `${f(s.p99c256Ms, 1)} ms${s.c256Timeouts ? ` (${s.c256Timeouts} timeouts)` : ""}`
            : "–",
          t.fixedRate ? `${f(s.cpuUsPerRequestFixed)} (at ${f(t.fixedRate.achievedRate)}/s)` : "–",
          f(s.cpuUsPerRequestSaturated),
        ];
      }),
    ),
  );
  out.push("");
  out.push(
    table(
      ["goal (builtin engine, ratios from this run)", "target", "measured", "met"],
      r.goals.map((g) => [g.name, g.target, g.measured, g.met === null ? "reported" : g.met ? "yes" : "NO"]),
      [0, 1, 2, 3],
    ),
  );
  if (r.idle) {
    const i = r.idle;
    out.push("");
    out.push(
      `idle keep-alive connections on one agent: ${f(i.heldAtMeasure)} held of ${f(i.target)} wanted (opened ${f(i.opened)}, failed ${f(i.failed)}, in ${f(i.openSeconds, 1)} s from ${i.sourceAddresses.join(", ")}, ${i.clientProcesses} client processes); ` +
        `RSS ${mib(i.rssBeforeKiB)} before, ${mib(i.rssAfterKiB)} with them (${f(i.bytesPerConnection, 0)} bytes/connection), ${mib(i.rssAfterCloseKiB)} after closing` +
        `${i.projectedRssAtTargetKiB !== null ? `; projected at ${f(i.target)}: ≈${mib(i.projectedRssAtTargetKiB)}` : ""}; ` +
        `a new request ${i.stillAnswers ? `answered in ${f(i.answerMs, 1)} ms` : "got NO answer"}${i.firstError ? `; first error: ${i.firstError}` : ""}`,
    );
  }
  out.push("");
  for (const [k, v] of Object.entries(r.methods)) out.push(`${k}: ${v}`);
  for (const n of r.notes) out.push(`note: ${n}`);
  return out.join("\n");
}
