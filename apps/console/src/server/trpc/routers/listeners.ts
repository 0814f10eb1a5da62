import {
  byCluster,
  byId,
  listenerInput,
  listenerUpdate,
  routeInput,
  routeUpdate,
} from "../../domain/schemas";
import {
  createListener,
  deleteListener,
  listListeners,
  updateListener,
} from "../../domain/topology/listeners";
import { createRoute, deleteRoute, updateRoute } from "../../domain/topology/routes";
import { procedure, router } from "../init";

export const listenerRouter = router({
  list: procedure("listener.read")
    .input(byCluster)
    .query(({ ctx, input }) => listListeners(ctx.services, input.clusterId)),
  create: procedure("listener.write")
    .input(listenerInput)
    .mutation(({ ctx, input }) => createListener(ctx.services, ctx.actor, input)),
  update: procedure("listener.write")
    .input(listenerUpdate)
    .mutation(({ ctx, input }) => updateListener(ctx.services, ctx.actor, input)),
  delete: procedure("listener.write")
    .input(byId)
    .mutation(({ ctx, input }) => deleteListener(ctx.services, ctx.actor, input.id)),
});

export const routeRouter = router({
  create: procedure("route.write")
    .input(routeInput)
    .mutation(({ ctx, input }) => createRoute(ctx.services, ctx.actor, input)),
  update: procedure("route.write")
    .input(routeUpdate)
    .mutation(({ ctx, input }) => updateRoute(ctx.services, ctx.actor, input)),
  delete: procedure("route.write")
    .input(byId)
    .mutation(({ ctx, input }) => deleteRoute(ctx.services, ctx.actor, input.id)),
});
