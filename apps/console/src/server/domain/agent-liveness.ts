import type { Prisma } from "@fulcrum/db";
import { HEARTBEAT_INTERVAL_MS } from "../gateway/agent-connection";
import type { Services } from "../services";

/**
 * How long after an agent was last heard of (hello, heartbeat, ack or nack, as
 * recorded by whichever console holds its socket) it still counts as up when
 * this console does not hold its socket. Agents send a heartbeat every
 * HEARTBEAT_INTERVAL_MS (the console tells them in `welcome`) and the gateway
 * writes it within 100 ms (AgentStatusWriter), so this allows two missed
 * heartbeats plus a few seconds for write delays and for clocks of consoles
 * that differ slightly. An agent whose console died without recording the
 * disconnect is shown down once this has passed.
 */
export const AGENT_SILENCE_LIMIT_MS = 3 * HEARTBEAT_INTERVAL_MS;

/** Where an agent's liveness comes from: a socket this console holds, or another console's recent writes. */
export type LivenessSource = "this-console" | "other-console";

export interface AgentLiveness {
  up: boolean;
  /** null when the agent is down. */
  via: LivenessSource | null;
  /** When a console last heard from it (its row's lastHeartbeatAt); null before its first hello. */
  lastSeenAt: Date | null;
}

/** The columns `livenessOf` reads; select them with the agent rows a caller needs anyway. */
export const LIVENESS_COLUMNS = {
  id: true,
  revokedAt: true,
  lastHeartbeatAt: true,
  disconnectedAt: true,
} as const satisfies Prisma.AgentSelect;

export type LivenessRow = Prisma.AgentGetPayload<{ select: typeof LIVENESS_COLUMNS }>;

/**
 * Is this agent up? Correct with several consoles on one database: each
 * console holds the sockets of its own agents only, but every console writes
 * what its agents report to the shared agent rows. An agent is up when this
 * console holds its socket (after hello), or when a console heard from it
 * within AGENT_SILENCE_LIMIT_MS and did not record a disconnect since.
 *
 * The disconnect is compared with the last time the agent was heard of, not
 * with its connect time: an agent that moves from console B to console A may
 * have B's disconnect written after A's connect; it is then down (seen from a
 * third console) only until A records its next heartbeat.
 */
export function livenessOf(row: LivenessRow, local: ReadonlySet<string>, now = Date.now()): AgentLiveness {
  const lastSeenAt = row.lastHeartbeatAt;
  if (row.revokedAt !== null) return { up: false, via: null, lastSeenAt };
  if (local.has(row.id)) return { up: true, via: "this-console", lastSeenAt };
  const heardRecently = lastSeenAt !== null && now - lastSeenAt.getTime() <= AGENT_SILENCE_LIMIT_MS;
  const disconnectedSince =
    row.disconnectedAt !== null && lastSeenAt !== null && row.disconnectedAt >= lastSeenAt;
  return heardRecently && !disconnectedSince
    ? { up: true, via: "other-console", lastSeenAt }
    : { up: false, via: null, lastSeenAt };
}

type LivenessDeps = Pick<Services, "prisma" | "gateway">;

/** The liveness of every agent of a cluster (revoked ones included, as down), by agent id. */
export async function agentLiveness(
  deps: LivenessDeps,
  clusterId: string,
): Promise<Map<string, AgentLiveness>> {
  const rows = await deps.prisma.agent.findMany({ where: { clusterId }, select: LIVENESS_COLUMNS });
  return livenessByAgent(deps, rows);
}

/** `livenessOf` for rows the caller already read (with LIVENESS_COLUMNS), judged against this console's sockets now. */
export function livenessByAgent(
  deps: Pick<Services, "gateway">,
  rows: readonly LivenessRow[],
): Map<string, AgentLiveness> {
  const local = deps.gateway.connectedAgentIds();
  const now = Date.now();
  return new Map(rows.map((r) => [r.id, livenessOf(r, local, now)]));
}
