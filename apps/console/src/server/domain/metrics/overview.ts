import type { Services } from "../../services";
import { LIVENESS_COLUMNS, livenessByAgent } from "../agent-liveness";
import { getCluster } from "../topology/clusters";

export interface ClusterOverview {
  /** Enrolled (not revoked) agents that are up, on this console or another one (domain/agent-liveness.ts). */
  agentsUp: number;
  agentsDown: number;
}

/** The Overview page's agent counts for a cluster. */
export async function clusterOverview(
  deps: Pick<Services, "prisma" | "gateway">,
  clusterId: string,
): Promise<ClusterOverview> {
  await getCluster(deps, clusterId);
  const agents = await deps.prisma.agent.findMany({
    where: { clusterId, revokedAt: null },
    select: LIVENESS_COLUMNS,
  });
  const up = [...livenessByAgent(deps, agents).values()].filter((l) => l.up).length;
  return { agentsUp: up, agentsDown: agents.length - up };
}
