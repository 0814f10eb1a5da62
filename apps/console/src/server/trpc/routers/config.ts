import { z } from "zod";
import { diffConfigVersion, getConfigVersion, listConfigVersions } from "../../domain/config-history";
import { rollbackConfig } from "../../domain/rollback";
import { byCluster, idSchema } from "../../domain/schemas";
import { procedure, router } from "../init";

const versionInput = z.object({ clusterId: idSchema, version: z.number().int().min(1) });

export const configRouter = router({
  versions: procedure("config.read")
    .input(byCluster)
    .query(({ ctx, input }) => listConfigVersions(ctx.services, input.clusterId)),
  get: procedure("config.read")
    .input(versionInput)
    .query(({ ctx, input }) => getConfigVersion(ctx.services, input.clusterId, input.version)),
  /** What a version changed, against the version before it (v1: against an empty cluster). */
  diff: procedure("config.read")
    .input(versionInput)
    .query(({ ctx, input }) => diffConfigVersion(ctx.services, input.clusterId, input.version)),
  rollback: procedure("config.rollback")
    .input(versionInput)
    .mutation(({ ctx, input }) => rollbackConfig(ctx.services, ctx.actor, input.clusterId, input.version)),
});
