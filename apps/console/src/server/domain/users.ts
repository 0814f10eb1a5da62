import { randomUUID } from "node:crypto";
import type { Prisma, PrismaClient } from "@fulcrum/db";
import { hashPassword } from "better-auth/crypto";
import { z } from "zod";
import { ConflictError, ForbiddenError, NotFoundError, SetupDoneError } from "../errors";
import { ROLES } from "../permissions";
import type { Actor } from "./actor";
import { recordAudit } from "./audit";
import { translatePrismaError } from "./prisma-errors";

export const passwordSchema = z
  .string()
  .min(10, "Use at least 10 characters.")
  .max(256, "Use at most 256 characters.");

export const newUserInput = z.object({
  name: z.string().trim().min(1, "Enter a name.").max(100),
  email: z.email("Enter a valid email address.").trim().toLowerCase(),
  password: passwordSchema,
  role: z.enum(ROLES).default("viewer"),
});
export type NewUserInput = z.infer<typeof newUserInput>;

const publicUser = {
  id: true,
  name: true,
  email: true,
  role: true,
  disabled: true,
  createdAt: true,
} as const;

/** Creates the user and its password account the way better-auth's sign-up would. */
async function insertUser(tx: Prisma.TransactionClient, input: NewUserInput) {
  const id = randomUUID();
  const user = await tx.user.create({
    data: { id, name: input.name, email: input.email, role: input.role, emailVerified: true },
    select: publicUser,
  });
  await tx.account.create({
    data: {
      id: randomUUID(),
      accountId: id,
      providerId: "credential",
      userId: id,
      password: await hashPassword(input.password),
    },
  });
  return user;
}

export async function needsSetup(prisma: PrismaClient): Promise<boolean> {
  return (await prisma.user.count()) === 0;
}

/**
 * The first admin, from the setup page or FULCRUM_ADMIN_* at start. An advisory
 * lock makes two racing setups (or two consoles starting) create one admin.
 */
export async function createFirstAdmin(prisma: PrismaClient, input: Omit<NewUserInput, "role">) {
  try {
    return await prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(7242001)`;
      if ((await tx.user.count()) > 0) throw new SetupDoneError();
      const user = await insertUser(tx, { ...input, role: "admin" });
      const actor: Actor = { kind: "user", id: user.id, name: user.email, role: "admin" };
      await recordAudit(tx, actor, {
        action: "user.setup",
        targetType: "user",
        targetId: user.id,
        after: user,
      });
      if ((await tx.cluster.count()) === 0) {
        const cluster = await tx.cluster.create({ data: { name: "default" } });
        await recordAudit(tx, actor, {
          action: "cluster.create",
          targetType: "cluster",
          targetId: cluster.id,
          clusterId: cluster.id,
          after: cluster,
        });
      }
      return user;
    });
  } catch (err) {
    throw translatePrismaError(err);
  }
}

export async function listUsers(prisma: PrismaClient) {
  return prisma.user.findMany({
    orderBy: { createdAt: "asc" },
    select: { ...publicUser, _count: { select: { sessions: true } } },
  });
}

export async function createUser(prisma: PrismaClient, actor: Actor, input: NewUserInput) {
  try {
    return await prisma.$transaction(async (tx) => {
      const user = await insertUser(tx, input);
      await recordAudit(tx, actor, {
        action: "user.create",
        targetType: "user",
        targetId: user.id,
        after: user,
      });
      return user;
    });
  } catch (err) {
    throw translatePrismaError(err);
  }
}

async function getUser(tx: Prisma.TransactionClient, id: string) {
  const user = await tx.user.findUnique({ where: { id }, select: publicUser });
  if (!user) throw new NotFoundError("User", id);
  return user;
}

/** Fulcrum must always keep one enabled admin, or nobody could manage users again. */
async function assertAnotherAdmin(tx: Prisma.TransactionClient, exceptId: string) {
  const others = await tx.user.count({ where: { role: "admin", disabled: false, id: { not: exceptId } } });
  if (others === 0) throw new ConflictError("This is the last enabled admin; make someone else admin first.");
}

export async function updateUser(
  prisma: PrismaClient,
  actor: Actor,
  input: { id: string; role?: (typeof ROLES)[number]; disabled?: boolean; name?: string },
) {
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(7242002)`;
    const before = await getUser(tx, input.id);
    const losesAdmin = before.role === "admin" && input.role !== undefined && input.role !== "admin";
    if (losesAdmin || (before.role === "admin" && input.disabled === true))
      await assertAnotherAdmin(tx, input.id);
    if (input.disabled && actor.id === input.id)
      throw new ForbiddenError("You cannot disable your own account.");
    const { id, ...data } = input;
    const after = await tx.user.update({ where: { id }, data, select: publicUser });
    // Disabling someone or changing their role ends their sessions at once.
    if (input.disabled || (input.role && input.role !== before.role))
      await tx.session.deleteMany({ where: { userId: id } });
    await recordAudit(tx, actor, { action: "user.update", targetType: "user", targetId: id, before, after });
    return after;
  });
}

export async function resetPassword(prisma: PrismaClient, actor: Actor, id: string, password: string) {
  const hash = await hashPassword(password);
  return prisma.$transaction(async (tx) => {
    const user = await getUser(tx, id);
    const updated = await tx.account.updateMany({
      where: { userId: id, providerId: "credential" },
      data: { password: hash },
    });
    if (updated.count === 0) {
      await tx.account.create({
        data: { id: randomUUID(), accountId: id, providerId: "credential", userId: id, password: hash },
      });
    }
    await tx.session.deleteMany({ where: { userId: id } });
    await recordAudit(tx, actor, {
      action: "user.reset_password",
      targetType: "user",
      targetId: id,
      after: { email: user.email },
    });
    return { id };
  });
}

export async function listSessions(prisma: PrismaClient, userId: string) {
  return prisma.session.findMany({
    where: { userId, expiresAt: { gt: new Date() } },
    select: { id: true, createdAt: true, expiresAt: true, ipAddress: true, userAgent: true },
    orderBy: { createdAt: "desc" },
  });
}

export async function revokeSessions(prisma: PrismaClient, actor: Actor, userId: string, sessionId?: string) {
  return prisma.$transaction(async (tx) => {
    const { count } = await tx.session.deleteMany({
      where: { userId, ...(sessionId ? { id: sessionId } : {}) },
    });
    await recordAudit(tx, actor, {
      action: "session.revoke",
      targetType: "user",
      targetId: userId,
      after: { sessionId: sessionId ?? "all", revoked: count },
    });
    return { revoked: count };
  });
}
