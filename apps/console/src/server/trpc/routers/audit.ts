import { z } from "zod";
import { listAuditEntries } from "../../domain/audit";
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
    .query(({ ctx, input }) => listAuditEntries(ctx.services, input)),
});
