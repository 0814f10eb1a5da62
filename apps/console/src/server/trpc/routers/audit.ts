import { z } from "zod";
import { procedure, router } from "../init";

export const auditRouter = router({
  list: procedure("audit.read")
    .input(
      z.object({
        actor: z.string().trim().max(200).optional(),
        action: z.string().trim().max(100).optional(),
        targetType: z.string().trim().max(50).optional(),
        /** One object's history (the History links on pools, backends and listeners). */
        targetId: z.string().trim().max(64).optional(),
        since: z.coerce.date().optional(),
        limit: z.number().int().min(1).max(500).default(100),
      }),
    )
    .query(({ ctx, input }) =>
      ctx.services.prisma.auditEntry.findMany({
        where: {
          ...(input.actor ? { actorName: { contains: input.actor, mode: "insensitive" } } : {}),
          ...(input.action ? { action: { startsWith: input.action } } : {}),
          ...(input.targetType ? { targetType: input.targetType } : {}),
          ...(input.targetId ? { targetId: input.targetId } : {}),
          ...(input.since ? { createdAt: { gte: input.since } } : {}),
        },
        orderBy: { createdAt: "desc" },
        take: input.limit,
      }),
    ),
});
