import { z } from "zod";
import { createApiToken, listApiTokens, newApiTokenInput, revokeApiToken } from "../../domain/api-tokens";
import { byId } from "../../domain/schemas";
import {
  createUser,
  listSessions,
  listUsers,
  newUserInput,
  passwordSchema,
  resetPassword,
  revokeSessions,
  updateUser,
} from "../../domain/users";
import { ROLES } from "../../permissions";
import { procedure, router } from "../init";

export const userRouter = router({
  list: procedure("user.manage").query(({ ctx }) => listUsers(ctx.services.prisma)),
  create: procedure("user.manage")
    .input(newUserInput)
    .mutation(({ ctx, input }) => createUser(ctx.services.prisma, ctx.actor, input)),
  update: procedure("user.manage")
    .input(
      z.object({ id: z.string().min(1), role: z.enum(ROLES).optional(), disabled: z.boolean().optional() }),
    )
    .mutation(({ ctx, input }) => updateUser(ctx.services.prisma, ctx.actor, input)),
  resetPassword: procedure("user.manage")
    .input(z.object({ id: z.string().min(1), password: passwordSchema }))
    .mutation(({ ctx, input }) => resetPassword(ctx.services.prisma, ctx.actor, input.id, input.password)),
  sessions: procedure("user.manage")
    .input(z.object({ userId: z.string().min(1) }))
    .query(({ ctx, input }) => listSessions(ctx.services.prisma, input.userId)),
  revokeSessions: procedure("user.manage")
    .input(z.object({ userId: z.string().min(1), sessionId: z.string().min(1).optional() }))
    .mutation(({ ctx, input }) =>
      revokeSessions(ctx.services.prisma, ctx.actor, input.userId, input.sessionId),
    ),
});

export const tokenRouter = router({
  list: procedure("token.manage").query(({ ctx }) => listApiTokens(ctx.services.prisma)),
  create: procedure("token.manage")
    .input(newApiTokenInput)
    .mutation(({ ctx, input }) => createApiToken(ctx.services.prisma, ctx.actor, input)),
  revoke: procedure("token.manage")
    .input(byId)
    .mutation(({ ctx, input }) => revokeApiToken(ctx.services.prisma, ctx.actor, input.id)),
});
