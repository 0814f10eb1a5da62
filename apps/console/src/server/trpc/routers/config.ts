import { z } from "zod";
import { byCluster, idSchema } from "../../domain/schemas";
import { NotFoundError } from "../../errors";
import { procedure, router } from "../init";

export const configRouter = router({
  versions: procedure("config.read")
    .input(byCluster)
    .query(({ ctx, input }) =>
      ctx.services.prisma.configVersion.findMany({
        where: { clusterId: input.clusterId },
        orderBy: { version: "desc" },
        take: 100,
        select: { id: true, version: true, hash: true, authorName: true, createdAt: true },
      }),
    ),
  get: procedure("config.read")
    .input(z.object({ clusterId: idSchema, version: z.number().int().min(1) }))
    .query(async ({ ctx, input }) => {
      const row = await ctx.services.prisma.configVersion.findUnique({
        where: { clusterId_version: { clusterId: input.clusterId, version: input.version } },
      });
      if (!row) throw new NotFoundError("Config version", String(input.version));
      return row;
    }),
});
