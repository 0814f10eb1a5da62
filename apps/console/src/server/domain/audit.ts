import type { Prisma } from "@fulcrum/db";
import type { Services } from "../services";
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

/** What the Audit page filters on; every field but `limit` is optional. */
export interface AuditFilter {
  /** Part of the actor's name, any case. */
  actor?: string | undefined;
  /** The start of the action, e.g. "backend." or "backend.move". */
  action?: string | undefined;
  targetType?: string | undefined;
  /** One object's history (the History links on pools, backends and listeners). */
  targetId?: string | undefined;
  since?: Date | undefined;
  limit: number;
}

/** Audit entries matching the filter, newest first. */
export async function listAuditEntries(deps: Pick<Services, "prisma">, filter: AuditFilter) {
  return deps.prisma.auditEntry.findMany({
    where: {
      ...(filter.actor ? { actorName: { contains: filter.actor, mode: "insensitive" } } : {}),
      ...(filter.action ? { action: { startsWith: filter.action } } : {}),
      ...(filter.targetType ? { targetType: filter.targetType } : {}),
      ...(filter.targetId ? { targetId: filter.targetId } : {}),
      ...(filter.since ? { createdAt: { gte: filter.since } } : {}),
    },
    orderBy: { createdAt: "desc" },
    take: filter.limit,
  });
}
