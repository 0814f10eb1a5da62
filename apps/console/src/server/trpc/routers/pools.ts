import { z } from "zod";
import { backendMoveInput, bulkSetStateInput, bulkSetWeightInput } from "../../domain/changes/requests";
import {
  backendInput,
  backendUpdate,
  byCluster,
  byId,
  idSchema,
  poolInput,
  poolUpdate,
} from "../../domain/schemas";
import {
  bulkSetBackendState,
  bulkSetBackendWeight,
  createBackend,
  createBackends,
  createBackendsInput,
  deleteBackend,
  listPoolBackends,
  moveBackends,
  poolBackendsInput,
  updateBackend,
} from "../../domain/topology/backends";
import {
  backendCardMetrics,
  cardMetricsInput,
  createPool,
  deletePool,
  getPool,
  getPoolSummary,
  listPoolBoard,
  listPools,
  updatePool,
} from "../../domain/topology/pools";
import { procedure, router } from "../init";

export const poolRouter = router({
  list: procedure("pool.read")
    .input(byCluster)
    .query(({ ctx, input }) => listPools(ctx.services, input.clusterId)),
  /** The pools board: every pool with its backends in a lean shape (no limits, URLs, timestamps). */
  board: procedure("pool.read")
    .input(byCluster)
    .query(({ ctx, input }) => listPoolBoard(ctx.services, input.clusterId)),
  /** A pool's settings and backend counts by state, without the backends. */
  summary: procedure("pool.read")
    .input(byId)
    .query(({ ctx, input }) => getPoolSummary(ctx.services, input.id)),
  /** A pool's backends a page at a time (cursor: the last address and port; at most 200 a page). */
  backends: procedure("backend.read")
    .input(poolBackendsInput)
    .query(({ ctx, input }) => listPoolBackends(ctx.services, input)),
  /** Requests/s over 5 minutes and health of the backends on screen (at most 100), in this pool. */
  cardMetrics: procedure("pool.read")
    .input(cardMetricsInput)
    .query(({ ctx, input }) => backendCardMetrics(ctx.services, ctx.services.metrics, input)),
  get: procedure("pool.read")
    .input(byId)
    .query(({ ctx, input }) => getPool(ctx.services, input.id)),
  create: procedure("pool.write")
    .input(poolInput)
    .mutation(({ ctx, input }) => createPool(ctx.services, ctx.actor, input)),
  update: procedure("pool.write")
    .input(poolUpdate)
    .mutation(({ ctx, input }) => updatePool(ctx.services, ctx.actor, input)),
  delete: procedure("pool.write")
    .input(byId)
    .mutation(({ ctx, input }) => deletePool(ctx.services, ctx.actor, input.id)),
});

export const backendRouter = router({
  create: procedure("backend.write")
    .input(backendInput)
    .mutation(({ ctx, input }) => createBackend(ctx.services, ctx.actor, input)),
  /** Up to 1,000 backends into one pool: one transaction, one config version. */
  createMany: procedure("backend.write")
    .input(createBackendsInput)
    .mutation(({ ctx, input }) => createBackends(ctx.services, ctx.actor, input)),
  update: procedure("backend.write")
    .input(backendUpdate)
    .mutation(({ ctx, input }) => updateBackend(ctx.services, ctx.actor, input)),
  /** Drain, enable or disable: separate from editing so it can be granted on its own. */
  setState: procedure("backend.drain")
    .input(z.object({ id: idSchema, state: z.enum(["enabled", "draining", "disabled"]) }))
    .mutation(({ ctx, input }) => updateBackend(ctx.services, ctx.actor, input)),
  delete: procedure("backend.write")
    .input(byId)
    .mutation(({ ctx, input }) => deleteBackend(ctx.services, ctx.actor, input.id)),
  /** Moves backends to other pools of their cluster (undo: move them back); one config version. */
  move: procedure("backend.write")
    .input(backendMoveInput)
    .mutation(({ ctx, input }) => moveBackends(ctx.services, ctx.actor, input)),
  /** Drain, enable or disable several backends at once; one config version. */
  bulkSetState: procedure("backend.drain")
    .input(bulkSetStateInput)
    .mutation(({ ctx, input }) => bulkSetBackendState(ctx.services, ctx.actor, input)),
  bulkSetWeight: procedure("backend.write")
    .input(bulkSetWeightInput)
    .mutation(({ ctx, input }) => bulkSetBackendWeight(ctx.services, ctx.actor, input)),
});
