import type { PrismaClient } from "@fulcrum/db";
import { z } from "zod";
import { NotFoundError } from "../errors";
import { ROLES } from "../permissions";
import type { Actor } from "./actor";
import { recordAudit } from "./audit";
import { hashSecret, newSecret } from "./secrets";

export const API_TOKEN_PREFIX = "fk";

export const newApiTokenInput = z.object({
  name: z.string().trim().min(1, "Name the token after what uses it.").max(100),
  role: z.enum(ROLES),
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});

export async function createApiToken(
  prisma: PrismaClient,
  actor: Actor,
  input: z.infer<typeof newApiTokenInput>,
) {
  if (!actor.id) throw new Error("API tokens are created by a person");
  const { secret, hash, display } = newSecret(API_TOKEN_PREFIX);
  const token = await prisma.$transaction(async (tx) => {
    const token = await tx.apiToken.create({
      data: {
        name: input.name,
        role: input.role,
        tokenHash: hash,
        prefix: display,
        createdById: actor.id!,
        expiresAt: input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86_400_000) : null,
      },
      select: { id: true, name: true, role: true, prefix: true, createdAt: true, expiresAt: true },
    });
    await recordAudit(tx, actor, {
      action: "token.create",
      targetType: "api_token",
      targetId: token.id,
      after: token,
    });
    return token;
  });
  return { ...token, secret };
}

export async function listApiTokens(prisma: PrismaClient) {
  return prisma.apiToken.findMany({
    orderBy: { createdAt: "desc" },
    select: {
      id: true,
      name: true,
      role: true,
      prefix: true,
      createdAt: true,
      lastUsedAt: true,
      expiresAt: true,
      revokedAt: true,
      createdBy: { select: { email: true } },
    },
  });
}

export async function revokeApiToken(prisma: PrismaClient, actor: Actor, id: string) {
  return prisma.$transaction(async (tx) => {
    const before = await tx.apiToken.findUnique({
      where: { id },
      select: { id: true, name: true, revokedAt: true },
    });
    if (!before) throw new NotFoundError("API token", id);
    const after = await tx.apiToken.update({
      where: { id },
      data: { revokedAt: before.revokedAt ?? new Date() },
    });
    await recordAudit(tx, actor, {
      action: "token.revoke",
      targetType: "api_token",
      targetId: id,
      before,
      after: { revokedAt: after.revokedAt },
    });
    return { id };
  });
}

/** Resolves `Authorization: Bearer fk_…` to an actor, or null when the token is unknown, expired or revoked. */
export async function authenticateApiToken(prisma: PrismaClient, secret: string): Promise<Actor | null> {
  const token = await prisma.apiToken.findUnique({
    where: { tokenHash: hashSecret(secret) },
    include: { createdBy: { select: { disabled: true } } },
  });
  if (!token || token.revokedAt || token.createdBy.disabled) return null;
  if (token.expiresAt && token.expiresAt < new Date()) return null;
  // Best effort: a failed timestamp write must not fail the request.
  void prisma.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: new Date() } }).catch(() => {});
  return { kind: "token", id: token.createdById, name: token.name, role: token.role };
}
