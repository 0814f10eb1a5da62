import type { Services } from "../../services";
import { LIVENESS_COLUMNS, livenessByAgent } from "../agent-liveness";
import type { Rollout, RolloutAgentState } from "./types";

/**
 * How far a config version got through a cluster's agents. An agent has it
 * when its applied version is this one or later (versions only grow), or when
 * what it runs hashes like the latest version: the console pushes only
 * snapshots whose hash differs from what an agent runs, so after a change and
 * its undo an agent may keep an older number for the latest content. It
 * refused the version when it NACKed it (or a later one) and has not applied
 * it since (agent_config_events). Everything but "pending" versus "offline"
 * is read from the database, which every console writes its agents' reports
 * to, so an agent connected to another console reads the same here; whether it
 * is up comes from `livenessOf` (domain/agent-liveness.ts).
 */
export async function rolloutOf(
  deps: Pick<Services, "prisma" | "gateway">,
  clusterId: string,
  version: number,
): Promise<Rollout> {
  const [agents, nacks, latest] = await Promise.all([
    deps.prisma.agent.findMany({
      where: { clusterId, revokedAt: null },
      orderBy: { name: "asc" },
      select: { ...LIVENESS_COLUMNS, name: true, appliedVersion: true },
    }),
    deps.prisma.agentConfigEvent.findMany({
      where: { clusterId, kind: "nack", version: { gte: version } },
      orderBy: { at: "desc" },
      select: { agentId: true, version: true, reason: true },
    }),
    deps.prisma.configVersion.findFirst({
      where: { clusterId },
      orderBy: { version: "desc" },
      select: { version: true },
    }),
  ]);
  const liveness = livenessByAgent(deps, agents);
  const appliedVersions = [
    ...new Set(agents.flatMap((a) => (a.appliedVersion === null ? [] : [a.appliedVersion]))),
  ];
  const hashes = await deps.prisma.configVersion.findMany({
    where: { clusterId, version: { in: [...appliedVersions, ...(latest ? [latest.version] : [])] } },
    select: { version: true, hash: true },
  });
  const hashOf = new Map(hashes.map((h) => [h.version, h.hash]));
  const latestHash = latest ? hashOf.get(latest.version) : undefined;
  /** The version an agent's running config amounts to. */
  const effective = (applied: number | null) =>
    applied !== null && latest && hashOf.get(applied) === latestHash
      ? Math.max(applied, latest.version)
      : applied;
  const nackOf = new Map<string, { version: number; reason: string | null }>();
  for (const n of nacks) if (!nackOf.has(n.agentId)) nackOf.set(n.agentId, n);
  const rows = agents.map((a) => {
    const { up, via } = liveness.get(a.id)!;
    const running = effective(a.appliedVersion);
    const applied = running !== null && running >= version;
    const nack = nackOf.get(a.id);
    const rejected = !applied && nack !== undefined;
    const state: RolloutAgentState = applied ? "applied" : rejected ? "rejected" : up ? "pending" : "offline";
    const error = rejected ? `v${nack.version}: ${nack.reason ?? "refused"}` : null;
    return { id: a.id, name: a.name, connected: up, via, appliedVersion: a.appliedVersion, state, error };
  });
  return {
    clusterId,
    version,
    latestVersion: latest?.version ?? null,
    agents: rows,
    settled: rows.every((r) => r.state !== "pending"),
  };
}
