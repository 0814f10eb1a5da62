import { InvalidInputError, NotFoundError } from "../../errors";
import {
  type BackendStatus,
  poolBackendKey,
  type Range,
  type Scope,
  type SeriesPoint,
} from "../../metrics/aggregate";
import type { Services } from "../../services";
import { getCluster } from "../topology/clusters";

export type MetricsDeps = Pick<Services, "prisma" | "metrics">;

/** The store's key of a series: none for the cluster, else the listener, route, pool or backend id. */
export function seriesKey(scope: Scope, id: string | undefined): string {
  if (scope === "cluster") return "";
  if (!id)
    throw new InvalidInputError(`Choose which ${scope} to show.`, { id: `Choose which ${scope} to show.` });
  return id;
}

/** The pool's backends: configured ones (also those without traffic yet) and any this console saw traffic for. */
export async function poolBackendIds(
  deps: MetricsDeps,
  clusterId: string,
  poolId: string,
): Promise<string[]> {
  const pool = await deps.prisma.pool.findFirst({
    where: { id: poolId, clusterId },
    select: { backends: { select: { id: true }, orderBy: { createdAt: "asc" } } },
  });
  if (!pool) throw new NotFoundError("Pool", poolId);
  return [...new Set([...pool.backends.map((b) => b.id), ...deps.metrics.knownBackends(poolId)])];
}

/** One series (cluster, listener, route, pool or backend) over a range. */
export async function metricSeries(
  deps: MetricsDeps,
  input: { clusterId: string; scope: Scope; id?: string | undefined; range: Range },
): Promise<{ stepMs: number; points: SeriesPoint[] }> {
  const id = seriesKey(input.scope, input.id);
  await getCluster(deps, input.clusterId);
  const { stepMs, series } = await deps.metrics.series(input.clusterId, input.scope, [id], input.range);
  return { stepMs, points: series.get(id) ?? [] };
}

/** Every backend's series in one pool over a range, with its status now. */
export async function poolBackendSeries(
  deps: MetricsDeps,
  input: { clusterId: string; poolId: string; range: Range },
): Promise<{
  stepMs: number;
  series: Record<string, SeriesPoint[]>;
  status: Record<string, BackendStatus>;
}> {
  const ids = await poolBackendIds(deps, input.clusterId, input.poolId);
  // Each backend's traffic in this pool, not wherever else it has been.
  const keys = ids.map((id) => poolBackendKey(input.poolId, id));
  const { stepMs, series } = await deps.metrics.series(input.clusterId, "pool_backend", keys, input.range);
  return {
    stepMs,
    series: Object.fromEntries(ids.map((id, i) => [id, series.get(keys[i]!) ?? []])),
    status: Object.fromEntries(ids.map((id) => [id, deps.metrics.backendStatusOf(id, input.poolId)])),
  };
}
