import type { Prisma } from "@fulcrum/db";
import type { Actor } from "./actor";

export interface AuditInput {
  action: string;
  targetType: string;
  targetId?: string | null;
  clusterId?: string | null;
  before?: unknown;
  after?: unknown;
}

/** Called inside the transaction that makes the change, so a change never lands without its audit entry. */
export async function recordAudit(
  tx: Prisma.TransactionClient,
  actor: Actor,
  entry: AuditInput,
): Promise<void> {
  await tx.auditEntry.create({
    data: {
      actorId: actor.id,
      actorName: actor.kind === "token" ? `${actor.name} (API token)` : actor.name,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId ?? null,
      clusterId: entry.clusterId ?? null,
      before: toJson(entry.before),
      after: toJson(entry.after),
    },
  });
}

function toJson(v: unknown): Prisma.InputJsonValue | undefined {
  if (v === undefined || v === null) return undefined;
  return JSON.parse(JSON.stringify(v)) as Prisma.InputJsonValue;
}
