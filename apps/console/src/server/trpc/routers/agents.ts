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
import { CloseCode } from "../../gateway/close-codes";
import { procedure, router } from "../init";

export const agentRouter = router({
  list: procedure("agent.read")
    .input(byCluster)
    .query(({ ctx, input }) => listAgents(ctx.services, input.clusterId)),
  gatewayPath: procedure("agent.read").query(() => AGENT_GATEWAY_PATH),
  createEnrollmentToken: procedure("agent.enroll")
    .input(newEnrollmentTokenInput)
    .mutation(async ({ ctx, input }) => {
      const token = await createEnrollmentToken(ctx.services.prisma, ctx.actor, input);
      const command = `fulcrum-agent --console ${ctx.services.config.publicUrl} --token ${token.secret}`;
      return { ...token, command };
    }),
  enrollmentTokens: procedure("agent.enroll")
    .input(byCluster)
    .query(({ ctx, input }) => listEnrollmentTokens(ctx.services.prisma, input.clusterId)),
  revokeEnrollmentToken: procedure("agent.enroll")
    .input(byId)
    .mutation(({ ctx, input }) => revokeEnrollmentToken(ctx.services.prisma, ctx.actor, input.id)),
  revoke: procedure("agent.manage")
    .input(byId)
    .mutation(async ({ ctx, input }) => {
      await revokeAgent(ctx.services.prisma, ctx.actor, input.id, ctx.services.gateway.instanceId);
      ctx.services.gateway.disconnect(input.id, CloseCode.revoked, "agent revoked");
      return { id: input.id };
    }),
  delete: procedure("agent.manage")
    .input(byId)
    .mutation(async ({ ctx, input }) => {
      await deleteAgent(ctx.services.prisma, ctx.actor, input.id, ctx.services.gateway.instanceId);
      ctx.services.gateway.disconnect(input.id, CloseCode.revoked, "agent deleted");
      return { id: input.id };
    }),
});
