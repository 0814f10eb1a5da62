import type { BackendStatus } from "@fulcrum/protocol";

/**
 * A pool's health timeline, rebuilt from what the agents reported: their
 * health events (active checks up/down, outlier ejected/restored) and the
 * backends' configured state (enabled, draining, disabled) from the config
 * versions. Pure: the router feeds it rows, tests feed it literals.
 *
 * The rule per backend and moment is the agents' own (apps/agent
 * metrics/backend-status.ts): disabled or draining as configured, else down
 * when its checks failed, else ejected while an ejection lasts, else up. An
 * agent reports no event when a new backend's first check succeeds (it serves
 * from the start), so "no verdict" reads as up once an agent runs the
 * cluster's config (its first ACK), and as unknown before that. Across
 * agents the most severe wins, as on the board (backend-status.ts statusOf).
 */

export type HealthEventState = "up" | "down" | "ejected" | "restored" | "drained";

export interface TimelineEvent {
  t: number;
  agentId: string;
  backendId: string;
  state: HealthEventState;
  reason?: string | null;
}

/** One config version as far as this pool is concerned. */
export interface TimelineConfig {
  t: number;
  /** Backends listed in the pool and their configured state; absent ones are not in the pool. */
  backends: ReadonlyMap<string, "enabled" | "draining" | "disabled">;
  /** The pool runs active checks (without them a backend serves as up until told otherwise). */
  checked: boolean;
}

/** A change of a backend's status; null: not in the pool (nothing to show). */
export interface TimelinePoint {
  t: number;
  status: BackendStatus | null;
  /** The event that caused it, when one did (e.g. "5 consecutive failures …"). */
  reason?: string;
}

const SEVERITY: readonly BackendStatus[] = ["down", "ejected", "draining", "disabled", "up", "unknown"];

/** "ejection 3 for 90000 ms": the agent's reason says how long; the end shows even if "restored" never arrives. */
const EJECTION_MS = /for (\d+) ms/;

interface AgentHealth {
  health: "up" | "down" | "unknown";
  ejectedUntil: number;
}

export function buildHealthTimeline(input: {
  from: number;
  to: number;
  /** Sorted by t: the last config before `from` (if any) first, then those in the range. */
  configs: readonly TimelineConfig[];
  /** Sorted by t: events from before `from` (the latest per agent, backend and kind is enough) and in the range. */
  events: readonly TimelineEvent[];
  /** Backends to report (the pool's now, plus any in the configs). */
  backendIds: readonly string[];
  /** When an agent first ACKed a config of the cluster (undefined: none has, up to `to`). */
  servingSince?: number | undefined;
}): Record<string, TimelinePoint[]> {
  const { from, to } = input;
  const agents = new Map<string, Map<string, AgentHealth>>();
  let config: TimelineConfig | undefined;
  const out: Record<string, TimelinePoint[]> = {};
  for (const id of input.backendIds) out[id] = [];

  const serving = (at: number) => input.servingSince !== undefined && at >= input.servingSince;
  const statusOf = (id: string, at: number): BackendStatus | null => {
    if (!config) return "unknown";
    const state = config.backends.get(id);
    if (state === undefined) return null;
    if (state === "disabled") return "disabled";
    if (state === "draining") return "draining";
    let best: BackendStatus | undefined;
    for (const byBackend of agents.values()) {
      const h = byBackend.get(id);
      const s: BackendStatus =
        h?.health === "down"
          ? "down"
          : h && at < h.ejectedUntil
            ? "ejected"
            : h?.health === "up" || !config.checked || serving(at)
              ? "up"
              : "unknown";
      if (best === undefined || SEVERITY.indexOf(s) < SEVERITY.indexOf(best)) best = s;
    }
    return best ?? (!config.checked || serving(at) ? "up" : "unknown");
  };

  const note = (at: number, cause?: { backendId: string; reason: string }) => {
    const t = Math.max(at, from);
    for (const id of input.backendIds) {
      const list = out[id]!;
      const status = statusOf(id, at);
      const last = list.at(-1);
      if (last && last.status === status) continue;
      const point: TimelinePoint =
        cause?.backendId === id ? { t, status, reason: cause.reason } : { t, status };
      // Changes before the range collapse into the state carried in at `from`.
      if (last && last.t === t) list[list.length - 1] = point;
      else list.push(point);
    }
  };

  const apply = (e: TimelineEvent) => {
    const byBackend = agents.get(e.agentId) ?? new Map<string, AgentHealth>();
    agents.set(e.agentId, byBackend);
    const h = byBackend.get(e.backendId) ?? { health: "unknown", ejectedUntil: 0 };
    byBackend.set(e.backendId, h);
    if (e.state === "up" || e.state === "down") h.health = e.state;
    else if (e.state === "restored") h.ejectedUntil = 0;
    else if (e.state === "ejected") {
      const ms = Number(EJECTION_MS.exec(e.reason ?? "")?.[1]);
      h.ejectedUntil = Number.isFinite(ms) ? e.t + ms : Number.POSITIVE_INFINITY;
      if (Number.isFinite(ms)) ejectionEnds.push(e.t + ms);
    }
  };

  // Configs and events in time order (a config first at the same instant); ejections that run
  // out without a "restored" (agent restarted, settings changed) end at their announced time.
  const steps = [
    ...(input.servingSince === undefined
      ? []
      : [{ t: input.servingSince, config: undefined, event: undefined }]),
    ...input.configs.map((c) => ({ t: c.t, config: c, event: undefined })),
    ...input.events.map((e) => ({ t: e.t, config: undefined, event: e })),
  ].sort((a, b) => a.t - b.t || (a.config ? -1 : b.config ? 1 : 0));
  const ejectionEnds: number[] = [];
  const endEjectionsUpTo = (t: number) => {
    ejectionEnds.sort((a, b) => a - b);
    while (ejectionEnds.length > 0 && ejectionEnds[0]! <= t) {
      const end = ejectionEnds.shift()!;
      if (end <= to) note(end);
    }
  };
  for (const step of steps) {
    if (step.t > to) break;
    endEjectionsUpTo(step.t);
    if (step.config) {
      config = step.config;
      note(step.t);
    } else if (step.event) {
      apply(step.event);
      const reason = step.event.reason;
      note(step.t, reason ? { backendId: step.event.backendId, reason } : undefined);
    } else note(step.t);
  }
  endEjectionsUpTo(to);
  // Nothing at all before or in the range: the state at `from` is still worth a point.
  for (const id of input.backendIds) {
    if (out[id]!.length === 0) {
      const status = statusOf(id, from);
      out[id]!.push({ t: from, status });
    }
  }
  return out;
}
