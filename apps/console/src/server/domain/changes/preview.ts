import { poolBackendKey } from "../../metrics/aggregate";
import type { Services } from "../../services";
import { hashSnapshotBody } from "../../snapshot/compile";
import { diffSnapshots } from "../../snapshot/diff";
import type { Actor } from "../actor";
import { LIVENESS_COLUMNS, livenessByAgent } from "../agent-liveness";
import { DryRunComplete } from "../topology-change";
import { applyChange } from "./apply";
import { type LiveView, poolEffects } from "./effects";
import type { ChangeRequest } from "./requests";
import type { ChangePreview } from "./types";

type PreviewDeps = Pick<Services, "prisma" | "publisher" | "gateway" | "metrics">;

/**
 * Dry-runs a change: the same domain function as the mutation runs with a
 * dry-run marker, so `commitTopologyChange` makes the change inside its
 * transaction, compiles the would-be snapshot and rolls back (DryRunComplete).
 * Validation and conflicts therefore fail exactly as the real change would.
 */
export async function previewChange(
  deps: PreviewDeps,
  actor: Actor,
  req: ChangeRequest,
): Promise<ChangePreview> {
  let dry: DryRunComplete | undefined;
  try {
    await applyChange({ prisma: deps.prisma, publisher: deps.publisher, dryRun: true }, actor, req);
  } catch (err) {
    if (!(err instanceof DryRunComplete)) throw err;
    dry = err;
  }
  if (!dry) throw new Error(`dry run of ${req.kind} did not reach commitTopologyChange`);
  const { clusterId, before, after } = dry;

  const [latest, agents] = await Promise.all([
    deps.prisma.configVersion.findFirst({
      where: { clusterId },
      orderBy: { version: "desc" },
      select: { version: true, hash: true },
    }),
    deps.prisma.agent.findMany({
      where: { clusterId, revokedAt: null },
      orderBy: { name: "asc" },
      select: { ...LIVENESS_COLUMNS, name: true, appliedVersion: true },
    }),
  ]);
  const liveness = livenessByAgent(deps, agents);
  // The same rule as recordConfigVersion: a new version unless the hash equals the latest one.
  const changed = !latest || latest.hash !== hashSnapshotBody(after);

  const live: LiveView = {
    backend: (poolId, id) => ({
      status: deps.metrics.backendStatusOf(id),
      // Its rate in this pool: a backend joining from another pool has none here yet.
      rps: deps.metrics.recentRps(clusterId, "pool_backend", poolBackendKey(poolId, id)),
      ...deps.metrics.backendGauges(id),
    }),
    poolRps: (id) => deps.metrics.recentRps(clusterId, "pool", id),
  };
  const pools = poolEffects(before, after, live);
  return {
    changed,
    clusterId,
    currentVersion: latest?.version ?? null,
    diff: diffSnapshots(before, after),
    agents: agents.map((a) => {
      const { up, via } = liveness.get(a.id)!;
      return { id: a.id, name: a.name, appliedVersion: a.appliedVersion, connected: up, via };
    }),
    pools,
    totals: {
      stickySessionsRepinned: pools.reduce((n, p) => n + p.stickySessionsRepinned, 0),
      connectionsToDrain: pools.reduce((n, p) => n + p.connectionsToDrain, 0),
    },
  };
}
