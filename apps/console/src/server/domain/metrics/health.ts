import type { TimelinePoint } from "../../metrics/health-timeline";
import { healthTimeline } from "../../metrics/health-timeline-query";
import type { Services } from "../../services";
import { getCluster } from "../topology/clusters";
import { MAX_MARKERS } from "./markers";

type HealthDeps = Pick<Services, "prisma">;

export interface HealthEventMarker {
  t: number;
  backendId: string;
  state: "up" | "down" | "ejected" | "restored" | "drained";
  agentName: string;
  reason?: string;
}

/** Backend health changes agents reported for a pool in [from, to] (epoch ms), oldest first; the newest MAX_MARKERS. */
export async function poolHealthEvents(
  deps: HealthDeps,
  input: { clusterId: string; poolId: string; from: number; to: number },
): Promise<HealthEventMarker[]> {
  await getCluster(deps, input.clusterId);
  const rows = await deps.prisma.healthEvent.findMany({
    where: {
      clusterId: input.clusterId,
      poolId: input.poolId,
      at: { gte: new Date(input.from), lte: new Date(input.to) },
    },
    orderBy: { at: "desc" },
    take: MAX_MARKERS,
  });
  return rows.reverse().map((r) => ({
    t: r.at.getTime(),
    backendId: r.backendId,
    state: r.state as HealthEventMarker["state"],
    agentName: r.agentName,
    ...(r.reason ? { reason: r.reason } : {}),
  }));
}

/**
 * Each backend's status over [from, to] as the agents reported it (health
 * events and configured states), starting with the state carried in at `from`.
 */
export async function poolHealthTimeline(
  deps: HealthDeps,
  input: { clusterId: string; poolId: string; from: number; to: number },
): Promise<Record<string, TimelinePoint[]>> {
  await getCluster(deps, input.clusterId);
  return healthTimeline(deps.prisma, input);
}
