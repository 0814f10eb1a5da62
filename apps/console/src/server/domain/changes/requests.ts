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

/** The input schema of each kind: exactly the input of the mutation that makes the change. */
export const CHANGE_INPUTS = {
  "backend.move": backendMoveInput,
  "backend.setState": bulkSetStateInput,
  "backend.setWeight": bulkSetWeightInput,
  "backend.create": backendInput,
  "backend.update": backendUpdate,
  "backend.delete": byId,
  "pool.create": poolInput,
  "pool.update": poolUpdate,
  "pool.delete": byId,
  "listener.create": listenerInput,
  "listener.update": listenerUpdate,
  "listener.delete": byId,
  "route.create": routeInput,
  "route.update": routeUpdate,
  "route.delete": byId,
  "config.rollback": rollbackInput,
} as const;
export type ChangeKind = keyof typeof CHANGE_INPUTS;
export const CHANGE_KINDS = Object.keys(CHANGE_INPUTS) as ChangeKind[];

const variant = <K extends ChangeKind>(kind: K) =>
  z.object({ kind: z.literal(kind), input: CHANGE_INPUTS[kind] as (typeof CHANGE_INPUTS)[K] });

/**
 * Every topology change the console can make, as one value: what
 * `change.preview` dry-runs. `{ kind, input }` where `input` is the input of
 * the matching mutation (backend.move, backend.bulkSetState as
 * "backend.setState", backend.bulkSetWeight as "backend.setWeight",
 * backend.create, …, config.rollback), so a form can preview what it is about
 * to submit.
 */
export const changeRequestUnion = z.discriminatedUnion("kind", [
  variant("backend.move"),
  variant("backend.setState"),
  variant("backend.setWeight"),
  variant("backend.create"),
  variant("backend.update"),
  variant("backend.delete"),
  variant("pool.create"),
  variant("pool.update"),
  variant("pool.delete"),
  variant("listener.create"),
  variant("listener.update"),
  variant("listener.delete"),
  variant("route.create"),
  variant("route.update"),
  variant("route.delete"),
  variant("config.rollback"),
]);
/** What the caller sends (defaults not yet applied). */
export type ChangeRequestInput = z.input<typeof changeRequestUnion>;
export type ChangeRequest = z.infer<typeof changeRequestUnion>;

/**
 * The parser `change.preview` uses: accepts and returns what `changeRequestUnion`
 * does, but reports problems of `input` at the paths the mutation itself would
 * (`name`, not `input.name`), so a form shows a preview's errors like a submit's.
 */
export const changeRequest = z
  .object({ kind: z.enum(CHANGE_KINDS as [ChangeKind, ...ChangeKind[]]), input: z.unknown() })
  .transform((v, ctx) => {
    const parsed = CHANGE_INPUTS[v.kind].safeParse(v.input);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue(issue as never);
      return z.NEVER;
    }
    return { kind: v.kind, input: parsed.data } as ChangeRequest;
  }) as unknown as z.ZodType<ChangeRequest, ChangeRequestInput>;

export const rolloutInput = z.object({ clusterId: idSchema, version: z.number().int().min(1) });
