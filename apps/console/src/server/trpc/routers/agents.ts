import { AGENT_GATEWAY_PATH } from "@fulcrum/protocol";
import {
  createEnrollmentToken,
  deleteAgent,
  listAgents,
  listEnrollmentTokens,
  newEnrollmentTokenInput,
  revokeAgent,
  revokeEnrollmentToken,
} from "../../domain/agents";
import { byCluster, byId } from "../../domain/schemas";
import { procedure, router } from "../init";

export const agentRouter = router({
  list: procedure("agent.read")
    .input(byCluster)
    .query(({ ctx, input }) => listAgents(ctx.services, input.clusterId)),
  gatewayPath: procedure("agent.read").query(() => AGENT_GATEWAY_PATH),
  createEnrollmentToken: procedure("agent.enroll")
    .input(newEnrollmentTokenInput)
    .mutation(({ ctx, input }) => createEnrollmentToken(ctx.services, ctx.actor, input)),
  enrollmentTokens: procedure("agent.enroll")
    .input(byCluster)
    .query(({ ctx, input }) => listEnrollmentTokens(ctx.services.prisma, input.clusterId)),
  revokeEnrollmentToken: procedure("agent.enroll")
    .input(byId)
    .mutation(({ ctx, input }) => revokeEnrollmentToken(ctx.services.prisma, ctx.actor, input.id)),
  revoke: procedure("agent.manage")
    .input(byId)
    .mutation(({ ctx, input }) => revokeAgent(ctx.services, ctx.actor, input.id)),
  delete: procedure("agent.manage")
    .input(byId)
    .mutation(({ ctx, input }) => deleteAgent(ctx.services, ctx.actor, input.id)),
});
