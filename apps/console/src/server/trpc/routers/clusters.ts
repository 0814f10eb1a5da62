import { z } from "zod";
import { byId, clusterInput, idSchema, nameSchema } from "../../domain/schemas";
import { createCluster, deleteCluster, listClusters, renameCluster } from "../../domain/topology/clusters";
import { procedure, router } from "../init";

export const clusterRouter = router({
  list: procedure("cluster.read").query(({ ctx }) => listClusters(ctx.services)),
  create: procedure("cluster.write")
    .input(clusterInput)
    .mutation(({ ctx, input }) => createCluster(ctx.services, ctx.actor, input)),
  rename: procedure("cluster.write")
    .input(z.object({ id: idSchema, name: nameSchema }))
    .mutation(({ ctx, input }) => renameCluster(ctx.services, ctx.actor, input.id, input.name)),
  delete: procedure("cluster.write")
    .input(byId)
    .mutation(({ ctx, input }) => deleteCluster(ctx.services, ctx.actor, input.id)),
});
