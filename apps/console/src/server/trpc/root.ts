import { router } from "./init";
import { agentRouter } from "./routers/agents";
import { auditRouter } from "./routers/audit";
import { certificateRouter } from "./routers/certificates";
import { changeRouter } from "./routers/changes";
import { clusterRouter } from "./routers/clusters";
import { configRouter } from "./routers/config";
import { listenerRouter, routeRouter } from "./routers/listeners";
import { metricsRouter } from "./routers/metrics";
import { backendRouter, poolRouter } from "./routers/pools";
import { setupRouter } from "./routers/setup";
import { tokenRouter, userRouter } from "./routers/users";

export const appRouter = router({
  setup: setupRouter,
  cluster: clusterRouter,
  listener: listenerRouter,
  route: routeRouter,
  pool: poolRouter,
  backend: backendRouter,
  certificate: certificateRouter,
  agent: agentRouter,
  config: configRouter,
  change: changeRouter,
  audit: auditRouter,
  user: userRouter,
  token: tokenRouter,
  metrics: metricsRouter,
});

export type AppRouter = typeof appRouter;
