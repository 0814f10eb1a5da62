import { z } from "zod";
import { createFirstAdmin, needsSetup, passwordSchema } from "../../domain/users";
import { procedure, publicProcedure, router } from "../init";

export const setupRouter = router({
  status: publicProcedure.query(async ({ ctx }) => ({ needsSetup: await needsSetup(ctx.services.prisma) })),
  createAdmin: publicProcedure
    .input(
      z.object({
        name: z.string().trim().min(1, "Enter your name.").max(100),
        email: z.email("Enter a valid email address.").trim().toLowerCase(),
        password: passwordSchema,
      }),
    )
    .mutation(({ ctx, input }) => createFirstAdmin(ctx.services.prisma, input)),
  me: procedure("authenticated").query(({ ctx }) => ({
    id: ctx.actor.id,
    name: ctx.actor.name,
    role: ctx.actor.role,
    kind: ctx.actor.kind,
  })),
});
