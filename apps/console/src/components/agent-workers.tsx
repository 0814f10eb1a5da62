import type { Agent } from "../lib/api-types";
import { formatDateTime, relativeTime } from "../lib/format";
import { WarningIcon } from "./icons";
import { Badge, Card, cx, Table, Td, Th } from "./ui";

type Report = NonNullable<Agent["workers"]>;
type Row = Report["rows"][number];

/**
 * A restart this recent gets the warning badge: long enough that an operator
 * glancing at the page every few minutes sees it, short enough that one old
 * crash does not keep a healthy node flagged.
 */
export const RECENT_RESTART_MS = 10 * 60_000;

const STATE_LABEL: Record<Row["state"], string> = {
  serving: "serving",
  starting: "starting",
  restarting: "restarting",
  exited: "exited",
};

/** "exited (SIGKILL)", "stalled", "refused the snapshot", "exited (code 1)". */
export function restartCause(r: NonNullable<Row["lastRestart"]>): string {
  if (r.cause === "stalled") return "stuck event loop, killed";
  if (r.cause === "refused") return "refused to catch up (snapshot or keys), killed";
  if (r.signal) return `exited (${r.signal})`;
  return r.exitCode !== undefined ? `exited (code ${r.exitCode})` : "exited";
}

function restartedAt(row: Row): number | null {
  return row.lastRestart ? Date.parse(row.lastRestart.at) : null;
}

/** What needs a look: workers not serving, and the latest restart within RECENT_RESTART_MS. */
export function workerWarnings(report: Report, now: number) {
  const down = report.rows.filter((r) => r.state !== "serving");
  const latest = Math.max(...report.rows.map((r) => restartedAt(r) ?? Number.NEGATIVE_INFINITY));
  const recent = Number.isFinite(latest) && now - latest < RECENT_RESTART_MS ? latest : null;
  return { down, recentRestartAt: recent };
}

function WorkerBadges({ report, now }: { report: Report; now: number }) {
  const { down, recentRestartAt } = workerWarnings(report, now);
  return (
    <>
      {down.length > 0 ? (
        <Badge tone="red" className="whitespace-nowrap">
          <WarningIcon />
          {down.length} not serving
        </Badge>
      ) : null}
      {recentRestartAt !== null ? (
        <Badge tone="amber" className="whitespace-nowrap">
          <span data-testid="worker-restart-warning" title={formatDateTime(new Date(recentRestartAt))}>
            restarted {relativeTime(new Date(recentRestartAt), now)}
          </span>
        </Badge>
      ) : null}
    </>
  );
}

/** The line under the count when there are no worker processes of the agent's own to list. */
function noRowsNote(report: Report): string {
  return report.engine === "haproxy"
    ? "HAProxy engine: its threads are its own"
    : "in the agent's process (--workers 1)";
}

/**
 * The Agents table's cell: how many data-plane workers the node runs, one chip
 * per worker with its CPU (and restarts, if any), and a badge when one is down
 * or restarted recently. Shown while the agent is connected; its report comes
 * with each heartbeat (every 5 s).
 */
export function WorkersCell({ agent, now }: { agent: Agent; now: number }) {
  const report = agent.workers;
  if (!agent.connected || !report)
    return (
      <span
        className="text-xs text-zinc-400"
        title={
          agent.connected
            ? "Reported with the agent's heartbeat (every 5 s); agents older than the workers report send none."
            : "Not connected"
        }
      >
        —
      </span>
    );
  return (
    <div data-testid={`agent-workers-${agent.name}`} className="space-y-1">
      <div className="flex flex-wrap items-center gap-1.5 text-[13px]">
        <span className="font-medium tabular-nums" data-testid="worker-count">
          {report.workers} {report.workers === 1 ? "worker" : "workers"}
        </span>
        <WorkerBadges report={report} now={now} />
      </div>
      {report.rows.length === 0 ? (
        <div className="text-xs text-zinc-500 dark:text-zinc-400">{noRowsNote(report)}</div>
      ) : (
        <div className="flex flex-wrap gap-1">
          {report.rows.map((w) => (
            <span
              key={w.index}
              data-testid={`worker-${w.index}`}
              data-state={w.state}
              title={`worker ${w.index}${w.pid ? `, pid ${w.pid}` : ""}: ${STATE_LABEL[w.state]}, ${w.restarts} restarts, ${w.stalls} stalls${w.lastRestart ? `; last restart ${formatDateTime(w.lastRestart.at)}, ${restartCause(w.lastRestart)}` : ""}`}
              className={cx(
                "inline-flex items-center gap-1 rounded px-1.5 py-0.5 font-mono text-[11px] tabular-nums ring-1 ring-inset",
                w.state === "serving"
                  ? "bg-zinc-50 text-zinc-700 ring-zinc-500/20 dark:bg-zinc-800 dark:text-zinc-300"
                  : "bg-red-50 text-red-700 ring-red-600/20 dark:bg-red-500/10 dark:text-red-300",
              )}
            >
              #{w.index}
              <span data-testid="worker-cpu">
                {w.state === "serving" ? `${w.cpuPercent.toFixed(1)}%` : w.state}
              </span>
              {w.restarts > 0 ? (
                <span className="text-amber-600 dark:text-amber-400">↻{w.restarts}</span>
              ) : null}
            </span>
          ))}
        </div>
      )}
    </div>
  );
}

/** The agent page's card: one row per worker, with its pid, state, CPU, restarts, stalls and last restart. */
export function WorkersCard({ agent, now }: { agent: Agent; now: number }) {
  const report = agent.workers;
  if (!agent.connected || !report) return null;
  return (
    <Card className="mb-6" data-testid="agent-workers-card">
      <div className="flex flex-wrap items-center gap-2 border-b border-zinc-200 px-4 py-3 dark:border-zinc-800">
        <h2 className="text-sm font-semibold">
          Data plane: {report.engine === "haproxy" ? "HAProxy" : "builtin"}, {report.workers}{" "}
          {report.workers === 1 ? "worker" : "workers"}
        </h2>
        <WorkerBadges report={report} now={now} />
        <span className="ml-auto text-xs text-zinc-500 dark:text-zinc-400">
          as of the last heartbeat · CPU in % of one core
        </span>
      </div>
      {report.rows.length === 0 ? (
        <p className="px-4 py-3 text-sm text-zinc-500 dark:text-zinc-400">{noRowsNote(report)}.</p>
      ) : (
        <Table>
          <thead>
            <tr>
              <Th>Worker</Th>
              <Th>PID</Th>
              <Th>State</Th>
              <Th>CPU</Th>
              <Th>Restarts</Th>
              <Th>Stalls</Th>
              <Th>Last restart</Th>
            </tr>
          </thead>
          <tbody>
            {report.rows.map((w) => (
              <tr key={w.index} data-testid={`worker-row-${w.index}`}>
                <Td className="font-mono text-xs">#{w.index}</Td>
                <Td className="font-mono text-xs tabular-nums">{w.pid ?? "—"}</Td>
                <Td>
                  <Badge tone={w.state === "serving" ? "green" : w.state === "exited" ? "zinc" : "red"}>
                    {STATE_LABEL[w.state]}
                  </Badge>
                </Td>
                <Td className="font-mono text-xs tabular-nums">{w.cpuPercent.toFixed(1)}%</Td>
                <Td className="font-mono text-xs tabular-nums">{w.restarts}</Td>
                <Td className="font-mono text-xs tabular-nums">{w.stalls}</Td>
                <Td className="text-xs">
                  {w.lastRestart ? (
                    <span title={formatDateTime(w.lastRestart.at)}>
                      {relativeTime(w.lastRestart.at, now)}: {restartCause(w.lastRestart)}
                    </span>
                  ) : (
                    <span className="text-zinc-400">never</span>
                  )}
                </Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </Card>
  );
}
