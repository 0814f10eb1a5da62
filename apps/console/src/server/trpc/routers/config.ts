import { z } from "zod";
import { rollbackConfig } from "../../domain/rollback";
import { byCluster, idSchema } from "../../domain/schemas";
import { NotFoundError } from "../../errors";
import type { SnapshotBody } from "../../snapshot/compile";
import { diffSnapshots } from "../../snapshot/diff";
import { procedure, router } from "../init";

const versionInput = z.object({ clusterId: idSchema, version: z.number().int().min(1) });

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
    .input(versionInput)
    .query(async ({ ctx, input }) => {
      const row = await ctx.services.prisma.configVersion.findUnique({
        where: { clusterId_version: { clusterId: input.clusterId, version: input.version } },
      });
      if (!row) throw new NotFoundError("Config version", String(input.version));
      return row;
    }),
  /** What a version changed, against the version before it (v1: against an empty cluster). */
  diff: procedure("config.read")
    .input(versionInput)
    .query(async ({ ctx, input }) => {
      const rows = await ctx.services.prisma.configVersion.findMany({
        where: { clusterId: input.clusterId, version: { in: [input.version - 1, input.version] } },
      });
      const after = rows.find((r) => r.version === input.version);
      if (!after) throw new NotFoundError("Config version", String(input.version));
      const before = rows.find((r) => r.version === input.version - 1);
      const empty: SnapshotBody = { listeners: [], pools: [] };
      return diffSnapshots(
        (before?.snapshot as unknown as SnapshotBody) ?? empty,
        after.snapshot as unknown as SnapshotBody,
      );
    }),
  rollback: procedure("config.rollback")
    .input(versionInput)
    .mutation(({ ctx, input }) => rollbackConfig(ctx.services, ctx.actor, input.clusterId, input.version)),
});
