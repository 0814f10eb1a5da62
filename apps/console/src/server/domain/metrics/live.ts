import type { BackendStatus, Scope, SeriesPoint } from "../../metrics/aggregate";
import { poolBackendKey } from "../../metrics/aggregate";
import { getCluster } from "../topology/clusters";
import { type MetricsDeps, poolBackendIds, seriesKey } from "./series";

/** How often a pool's configured backends are read again while its live series streams. */
const BACKENDS_REFRESH_MS = 30_000;

/** One series' points as each second completes, until `signal` aborts. */
export async function* liveSeries(
  deps: MetricsDeps,
  input: { clusterId: string; scope: Scope; id?: string | undefined },
  signal: AbortSignal | undefined,
): AsyncGenerator<SeriesPoint> {
  const id = seriesKey(input.scope, input.id);
  await getCluster(deps, input.clusterId);
  yield* deps.metrics.live(input.clusterId, input.scope, id, signal);
}

/** Every backend's point in one pool as each second completes (seconds without traffic are skipped). */
export async function* livePoolBackends(
  deps: MetricsDeps,
  input: { clusterId: string; poolId: string },
  signal: AbortSignal | undefined,
): AsyncGenerator<{
  t: number;
  points: Record<string, SeriesPoint>;
  status: Record<string, BackendStatus>;
}> {
  const { metrics } = deps;
  let configured = await poolBackendIds(deps, input.clusterId, input.poolId);
  let refreshedAt = Date.now();
  for await (const sec of metrics.seconds(signal)) {
    if (Date.now() - refreshedAt > BACKENDS_REFRESH_MS) {
      refreshedAt = Date.now();
      configured = await poolBackendIds(deps, input.clusterId, input.poolId).catch(() => configured);
    }
    const ids = [...new Set([...configured, ...metrics.knownBackends(input.poolId)])];
    const points: Record<string, SeriesPoint> = {};
    for (const id of ids) {
      const p = metrics.pointAt(input.clusterId, "pool_backend", poolBackendKey(input.poolId, id), sec);
      if (p) points[id] = p;
    }
    if (Object.keys(points).length === 0) continue;
    yield {
      t: sec * 1000,
      points,
      status: Object.fromEntries(ids.map((id) => [id, metrics.backendStatusOf(id, input.poolId)])),
    };
  }
}
