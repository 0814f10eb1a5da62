"use client";

import { useMutation } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import Link from "next/link";
import { useEffect, useRef, useState } from "react";
import type { Backend, Pool } from "../../lib/api-types";
import { useCan } from "../../lib/console-context";
import { plural } from "../../lib/format";
import { useInvalidateTopology } from "../../lib/invalidate";
import { useTRPC } from "../../lib/trpc";
import { WEIGHT_MAX } from "../../server/domain/schemas";
import { useNearViewport } from "../board/use-near-viewport";
import { useShownBackendMetrics } from "../board/use-shown-backend-metrics";
import { PanelToggle, useCardPanel } from "../card-panel";
import { agentsSentence, useChangeDialog } from "../changes/change-dialog";
import { useHostedChangeDialog } from "../changes/change-dialog-host";
import { DryRunButton } from "../changes/dry-run-button";
import { HistoryLink } from "../history-link";
import { HealthStatus } from "../metrics/health";
import { Sparkline } from "../metrics/sparkline";
import type { BackendsRow } from "../metrics/types";
import { type LiveBackends, useLiveBackends } from "../metrics/use-metrics";
import { Badge, Button, Card, cx, Skeleton, StatusDot } from "../ui";
import { BackendForm } from "./backend-form";
import {
  describeHealthCheck,
  describePersistence,
  policyLabel,
  readHealthCheck,
  readPersistence,
} from "./policies";
import { PoolForm } from "./pool-form";
import { readUpstream } from "./upstream-fields";

type State = Backend["state"];
const STATE_DOT: Record<State, "green" | "amber" | "zinc"> = {
  enabled: "green",
  draining: "amber",
  disabled: "zinc",
};

const STATE_EFFECT: Record<State, string> = {
  enabled: "takes new requests again",
  draining: "gets no new requests; in-flight requests and open connections finish",
  disabled: "leaves rotation at once; open connections are closed",
};

export function BackendState({ state }: { state: State }) {
  return <StatusDot color={STATE_DOT[state]} label={state} />;
}

export function endpoint(b: Pick<Backend, "address" | "port">): string {
  return b.address.includes(":") ? `[${b.address}]:${b.port}` : `${b.address}:${b.port}`;
}

/** Live health and a requests/s sparkline of one backend (health + traffic column). */
export function BackendTraffic({
  backend,
  feed,
}: {
  backend: Pick<Backend, "id" | "name" | "address" | "port">;
  feed: LiveBackends;
}) {
  const label = backend.name || endpoint(backend);
  const health = feed.status[backend.id];
  return (
    <div className="flex items-center justify-between gap-2">
      <span data-testid={`backend-health-${label}`} className="w-[4.75rem] shrink-0">
        {health ? (
          <HealthStatus status={health} />
        ) : feed.loading ? (
          <Skeleton className="h-4 w-14" />
        ) : (
          <HealthStatus status="unknown" />
        )}
      </span>
      <Sparkline
        store={feed.store}
        value={(r: BackendsRow) => r.points[backend.id]?.rps ?? null}
        label={`Requests per second of ${label}`}
        color="#6366f1"
        testId={`backend-rps-${label}`}
      />
    </div>
  );
}

/** How a virtualized table row reports its size: its index and the virtualizer's measuring ref. */
interface RowMeasure {
  index: number;
  measureRef: (node: HTMLTableRowElement | null) => void;
}

function BackendRow({
  backend,
  onEdit,
  feed,
  measure,
}: {
  backend: Backend;
  onEdit: () => void;
  feed: LiveBackends;
  measure: RowMeasure;
}) {
  const trpc = useTRPC();
  const allowed = useCan();
  const invalidate = useInvalidateTopology();
  const setState = useMutation(trpc.backend.setState.mutationOptions({ onSuccess: () => invalidate() }));
  const del = useMutation(trpc.backend.delete.mutationOptions());
  const label = backend.name || endpoint(backend);
  const mayDrain = allowed("backend.drain");
  const mayWrite = allowed("backend.write");
  const pendingState = setState.isPending ? setState.variables?.state : null;
  const change = useChangeDialog();

  const stateButton = (state: State, text: string) =>
    backend.state !== state ? (
      <Button
        size="xs"
        variant="ghost"
        disabled={setState.isPending}
        onClick={() => {
          const before = backend.state;
          change.open({
            title: `${text} ${label}?`,
            request: { kind: "backend.setState", input: { ids: [backend.id], state } },
            summary: (p) => (
              <>
                {label} {STATE_EFFECT[state]}. {agentsSentence(p)}
              </>
            ),
            confirmLabel: text,
            danger: state === "disabled",
            done: `${text}: ${label}`,
            apply: () => setState.mutateAsync({ id: backend.id, state }),
            undo: () => setState.mutateAsync({ id: backend.id, state: before }),
          });
        }}
      >
        {pendingState === state ? `${text}…` : text}
        <span className="sr-only"> {label}</span>
      </Button>
    ) : null;

  return (
    <tr
      ref={measure.measureRef}
      data-index={measure.index}
      className={cx("group", backend.state === "disabled" && "text-zinc-400 dark:text-zinc-500")}
    >
      <td className="w-28 border-b border-zinc-100 py-2 pl-4 pr-2 dark:border-zinc-800/70">
        <BackendState state={backend.state} />
      </td>
      <td className="min-w-0 border-b border-zinc-100 px-2 py-2 dark:border-zinc-800/70">
        <div className="flex min-w-0 items-center gap-2">
          <div className="min-w-0">
            {backend.name ? <div className="truncate text-[13px] font-medium">{backend.name}</div> : null}
            <div
              className={cx(
                "truncate font-mono text-xs",
                backend.name
                  ? "text-zinc-500 dark:text-zinc-400"
                  : "text-[13px] text-zinc-800 dark:text-zinc-200",
              )}
            >
              {endpoint(backend)}
            </div>
          </div>
          {backend.backup ? <Badge tone="violet">backup</Badge> : null}
        </div>
        {change.dialog}
        {setState.error ? (
          <p role="alert" className="mt-1 text-xs text-red-600 dark:text-red-400">
            {setState.error.message}
          </p>
        ) : null}
      </td>
      <td className="border-b border-zinc-100 px-2 py-2 dark:border-zinc-800/70">
        <BackendTraffic backend={backend} feed={feed} />
      </td>
      <td className="w-28 border-b border-zinc-100 px-2 py-2 dark:border-zinc-800/70">
        <div className="flex items-center gap-2" title={`Weight ${backend.weight} of ${WEIGHT_MAX}`}>
          <span className="w-7 text-right font-mono text-xs tabular-nums">{backend.weight}</span>
          <span className="h-1.5 w-14 overflow-hidden rounded-full bg-zinc-100 dark:bg-zinc-800">
            <span
              className={cx(
                "block h-full rounded-full",
                backend.weight === 0 ? "bg-zinc-300" : "bg-indigo-500/70",
              )}
              style={{ width: `${Math.max(2, (backend.weight / WEIGHT_MAX) * 100)}%` }}
            />
          </span>
        </div>
      </td>
      {mayDrain || mayWrite ? (
        <td className="border-b border-zinc-100 py-2 pl-2 pr-3 text-right dark:border-zinc-800/70">
          <div className="flex justify-end gap-0.5">
            {mayDrain ? (
              <>
                {stateButton("enabled", "Enable")}
                {backend.state === "enabled" ? stateButton("draining", "Drain") : null}
                {stateButton("disabled", "Disable")}
              </>
            ) : null}
            {mayWrite ? (
              <>
                <Button size="xs" variant="ghost" onClick={onEdit}>
                  Edit<span className="sr-only"> {label}</span>
                </Button>
                <DryRunButton
                  request={{ kind: "backend.delete", input: { id: backend.id } }}
                  title={`Delete ${label}?`}
                  body={
                    <>
                      The backend <span className="font-mono">{endpoint(backend)}</span> leaves the pool and
                      its open connections are cut at the next config push. To let connections finish, drain
                      it first.
                    </>
                  }
                  apply={() => del.mutateAsync({ id: backend.id })}
                >
                  Delete<span className="sr-only"> {label}</span>
                </DryRunButton>
              </>
            ) : null}
          </div>
        </td>
      ) : null}
    </tr>
  );
}

/** A row's height before it is measured. */
const ROW_ESTIMATE_PX = 53;

/**
 * The backends of a pool card, virtualized: a pool of 10,000 backends keeps a
 * few dozen rows in the DOM inside a scrolling box, with spacer rows standing
 * in for the rest (a table keeps its columns aligned that way).
 */
interface TableProps {
  pool: Pool;
  stream: boolean;
  actions: boolean;
  editing: string | null;
  setEditing: (id: string | null) => void;
}

/** Up to this many backends a card streams (or polls) the whole pool's metrics; past it, the shown rows'. */
const WHOLE_POOL_FEED_MAX = 100;

/**
 * Rows and their live metrics only while the card is near the screen: a list
 * of 200 pools polls the metrics of the few in view, not of all 200.
 */
function BackendTable(props: TableProps) {
  const [element, setElement] = useState<HTMLDivElement | null>(null);
  const near = useNearViewport(element, "viewport", "600px 0px");
  const rows = props.pool.backends.length;
  return (
    <div ref={setElement}>
      {!near ? (
        <div style={{ height: Math.min(rows * ROW_ESTIMATE_PX, 576) }} />
      ) : rows > WHOLE_POOL_FEED_MAX ? (
        <ShownFeedTable {...props} />
      ) : (
        <PoolFeedTable {...props} />
      )}
    </div>
  );
}

function PoolFeedTable(props: TableProps) {
  const feed = useLiveBackends(props.pool.id, "5m", { stream: props.stream });
  return <BackendRows {...props} feed={feed} />;
}

function ShownFeedTable(props: TableProps) {
  const [shown, setShown] = useState<string[]>([]);
  const feed = useShownBackendMetrics(props.pool.id, shown);
  return <BackendRows {...props} feed={feed} onShown={setShown} />;
}

function BackendRows({
  pool,
  feed,
  actions,
  editing,
  setEditing,
  onShown,
}: TableProps & { feed: LiveBackends; onShown?: (ids: string[]) => void }) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const backends = pool.backends;
  const virtualizer = useVirtualizer<HTMLDivElement, HTMLTableRowElement>({
    count: backends.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_ESTIMATE_PX,
    getItemKey: (i) => backends[i]?.id ?? i,
    overscan: 6,
    useFlushSync: false,
  });
  const items = virtualizer.getVirtualItems();
  // Keys, not the items: the items are new objects on every render.
  const shownKey = items.map((i) => i.key).join(",");
  useEffect(() => {
    onShown?.(shownKey === "" ? [] : shownKey.split(","));
  }, [shownKey, onShown]);
  const before = items[0]?.start ?? 0;
  const after = virtualizer.getTotalSize() - (items.at(-1)?.end ?? 0);
  const columns = actions ? 5 : 4;
  return (
    <div ref={scrollRef} data-testid={`rows-${pool.name}`} className="max-h-[36rem] overflow-y-auto">
      <table className="w-full table-fixed border-collapse text-left text-sm">
        <colgroup>
          <col className="w-28" />
          <col />
          <col className="w-56" />
          <col className="w-28" />
          {actions ? <col className="w-[15.5rem]" /> : null}
        </colgroup>
        <tbody>
          {before > 0 ? (
            <tr style={{ height: before }}>
              <td colSpan={columns} />
            </tr>
          ) : null}
          {items.map((item) => {
            const b = backends[item.index];
            if (!b) return null;
            const measure = { index: item.index, measureRef: virtualizer.measureElement };
            return editing === b.id ? (
              <tr key={b.id} ref={measure.measureRef} data-index={item.index}>
                <td colSpan={columns} className="border-b border-zinc-100 p-3 dark:border-zinc-800/70">
                  <BackendForm poolId={pool.id} backend={b} onDone={() => setEditing(null)} />
                </td>
              </tr>
            ) : (
              <BackendRow
                key={b.id}
                backend={b}
                feed={feed}
                measure={measure}
                onEdit={() => setEditing(b.id)}
              />
            );
          })}
          {after > 0 ? (
            <tr style={{ height: after }}>
              <td colSpan={columns} />
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  );
}

export function PoolCard({
  pool,
  clusterId,
  stream = true,
}: {
  pool: Pool;
  clusterId: string;
  /** Stream backend traffic (few pools on the page) or poll it every few seconds (many). */
  stream?: boolean;
}) {
  const trpc = useTRPC();
  const allowed = useCan();
  const del = useMutation(trpc.pool.delete.mutationOptions());
  // Its Delete removes this card: the dialog (and the rollout) live in the shell's host.
  const change = useHostedChangeDialog();
  const { panel, toggle, close } = useCardPanel();
  const [editingBackend, setEditingBackend] = useState<string | null>(null);
  const hc = readHealthCheck(pool.healthCheck);
  const ps = readPersistence(pool.persistence);
  const upstream = readUpstream(pool.upstream);
  const mayWritePool = allowed("pool.write");
  const mayWriteBackend = allowed("backend.write");
  const counts = {
    enabled: pool.backends.filter((b) => b.state === "enabled").length,
    draining: pool.backends.filter((b) => b.state === "draining").length,
  };

  return (
    <Card data-testid={`pool-${pool.name}`} className="flex flex-col">
      <div className="flex items-start justify-between gap-3 border-b border-zinc-100 px-4 py-3 dark:border-zinc-800">
        <div className="min-w-0">
          <div className="flex flex-wrap items-center gap-2">
            <h2 className="truncate font-mono text-[15px] font-semibold">
              <Link href={`/pools/${pool.id}`} className="hover:text-indigo-600 dark:hover:text-indigo-400">
                {pool.name}
              </Link>
            </h2>
            <Badge tone="indigo">{policyLabel(pool.policy)}</Badge>
            {upstream.protocol !== "http1" ? <Badge tone="sky">{upstream.protocol}</Badge> : null}
          </div>
          <p className="mt-1 text-xs text-zinc-500 dark:text-zinc-400">
            {describeHealthCheck(hc)} · {describePersistence(ps)} · {plural(pool._count.routes, "route")}
          </p>
        </div>
        <div className="flex shrink-0 items-center gap-1">
          {mayWriteBackend ? (
            <PanelToggle which="add" panel={panel} onToggle={toggle}>
              Add backend
            </PanelToggle>
          ) : null}
          {mayWritePool ? (
            <>
              <PanelToggle which="edit" panel={panel} onToggle={toggle}>
                Edit<span className="sr-only"> pool {pool.name}</span>
              </PanelToggle>
              <Button
                size="sm"
                variant="danger-ghost"
                onClick={() =>
                  change.open({
                    title: `Delete pool ${pool.name}?`,
                    request: { kind: "pool.delete", input: { id: pool.id } },
                    summary: () =>
                      pool._count.routes > 0 ? (
                        <>
                          Routes still send traffic here ({plural(pool._count.routes, "route")}). Point them
                          at another pool on the Listeners page first.
                        </>
                      ) : (
                        <>
                          The pool and its {plural(pool.backends.length, "backend")} are removed from the
                          configuration; their connections drain.
                        </>
                      ),
                    confirmLabel: "Delete pool",
                    danger: true,
                    done: `Deleted pool ${pool.name}`,
                    apply: () => del.mutateAsync({ id: pool.id }),
                  })
                }
              >
                Delete<span className="sr-only"> pool {pool.name}</span>
              </Button>
              {change.dialog}
            </>
          ) : null}
        </div>
      </div>

      {panel === "edit" ? (
        <div className="border-b border-zinc-100 p-4 dark:border-zinc-800">
          <PoolForm clusterId={clusterId} pool={pool} onDone={close} />
        </div>
      ) : null}

      {pool.backends.length === 0 ? (
        <div className="px-4 py-6 text-center text-sm text-zinc-500 dark:text-zinc-400">
          No backends yet.
          {mayWriteBackend ? " Add one to start sending traffic to this pool." : ""}
        </div>
      ) : (
        <BackendTable
          pool={pool}
          stream={stream}
          actions={mayWriteBackend || allowed("backend.drain")}
          editing={editingBackend}
          setEditing={setEditingBackend}
        />
      )}

      {panel === "add" ? (
        <div className="p-3">
          <BackendForm poolId={pool.id} onDone={close} />
        </div>
      ) : null}

      <div className="mt-auto flex items-center gap-3 border-t border-zinc-100 px-4 py-2 text-xs text-zinc-500 dark:border-zinc-800 dark:text-zinc-400">
        <span>{plural(pool.backends.length, "backend")}</span>
        <span>{counts.enabled} enabled</span>
        {counts.draining > 0 ? (
          <span className="text-amber-600 dark:text-amber-400">{counts.draining} draining</span>
        ) : null}
        <span className="ml-auto">requests/s over the last 5 min</span>
        <HistoryLink targetType="pool" targetId={pool.id} label={pool.name} />
        <Link
          href={`/pools/${pool.id}`}
          className="font-medium text-indigo-600 hover:text-indigo-500 dark:text-indigo-400 dark:hover:text-indigo-300"
        >
          Traffic and health<span className="sr-only"> of pool {pool.name}</span> →
        </Link>
      </div>
    </Card>
  );
}
