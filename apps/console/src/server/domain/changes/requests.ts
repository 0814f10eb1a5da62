import { z } from "zod";
import {
  backendInput,
  backendUpdate,
  byId,
  idSchema,
  listenerInput,
  listenerUpdate,
  poolInput,
  poolUpdate,
  routeInput,
  routeUpdate,
  weightSchema,
} from "../schemas";

/** How many backends one move or bulk action may touch. */
export const MAX_BULK_BACKENDS = 200;

export const backendStateSchema = z.enum(["enabled", "draining", "disabled"]);

const bulkIds = z
  .array(idSchema)
  .min(1, "Select at least one backend.")
  .max(MAX_BULK_BACKENDS, `Select at most ${MAX_BULK_BACKENDS} backends at once.`);

/** Moves backends to other pools of the same cluster (drag and drop on the pools board). */
export const backendMoveInput = z.object({
  moves: z
    .array(z.object({ id: idSchema, poolId: idSchema }))
    .min(1, "Move at least one backend.")
    .max(MAX_BULK_BACKENDS, `Move at most ${MAX_BULK_BACKENDS} backends at once.`),
});
export type BackendMoveInput = z.infer<typeof backendMoveInput>;

export const bulkSetStateInput = z.object({ ids: bulkIds, state: backendStateSchema });
export type BulkSetStateInput = z.infer<typeof bulkSetStateInput>;

export const bulkSetWeightInput = z.object({ ids: bulkIds, weight: weightSchema });
export type BulkSetWeightInput = z.infer<typeof bulkSetWeightInput>;

/** Same shape as config.rollback's input. */
export const rollbackInput = z.object({ clusterId: idSchema, version: z.number().int().min(1) });

/**
 * Every topology change the console can make, as one value: what `change.preview`
 * dry-runs. `input` is exactly the input of the mutation that makes the change
 * (backend.move, backend.bulkSetState, backend.bulkSetWeight, backend.create, …,
 * config.rollback), so a form can preview what it is about to submit.
 */
export const changeRequest = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("backend.move"), input: backendMoveInput }),
  z.object({ kind: z.literal("backend.setState"), input: bulkSetStateInput }),
  z.object({ kind: z.literal("backend.setWeight"), input: bulkSetWeightInput }),
  z.object({ kind: z.literal("backend.create"), input: backendInput }),
  z.object({ kind: z.literal("backend.update"), input: backendUpdate }),
  z.object({ kind: z.literal("backend.delete"), input: byId }),
  z.object({ kind: z.literal("pool.create"), input: poolInput }),
  z.object({ kind: z.literal("pool.update"), input: poolUpdate }),
  z.object({ kind: z.literal("pool.delete"), input: byId }),
  z.object({ kind: z.literal("listener.create"), input: listenerInput }),
  z.object({ kind: z.literal("listener.update"), input: listenerUpdate }),
  z.object({ kind: z.literal("listener.delete"), input: byId }),
  z.object({ kind: z.literal("route.create"), input: routeInput }),
  z.object({ kind: z.literal("route.update"), input: routeUpdate }),
  z.object({ kind: z.literal("route.delete"), input: byId }),
  z.object({ kind: z.literal("config.rollback"), input: rollbackInput }),
]);
/** What the caller sends (defaults not yet applied). */
export type ChangeRequestInput = z.input<typeof changeRequest>;
export type ChangeRequest = z.infer<typeof changeRequest>;
export type ChangeKind = ChangeRequest["kind"];

export const rolloutInput = z.object({ clusterId: idSchema, version: z.number().int().min(1) });
