import type { PrismaClient } from "@fulcrum/db";
import {
  agentConsoleArgs,
  CloseCode,
  type EnrollRequest,
  type EnrollResponse,
  type WorkersReport,
  workersReportSchema,
} from "@fulcrum/protocol";
import { z } from "zod";
import { ConflictError, NotFoundError, TokenInvalidError } from "../errors";
import { notifyInTransaction } from "../events/cluster-events";
import type { Services } from "../services";
import type { Actor } from "./actor";
import { livenessByAgent } from "./agent-liveness";
import { recordAudit } from "./audit";
import { translatePrismaError } from "./prisma-errors";
import { hashSecret, newSecret } from "./secrets";

export const ENROLLMENT_TOKEN_PREFIX = "fe";
export const AGENT_CREDENTIAL_PREFIX = "fa";

export const newEnrollmentTokenInput = z.object({
  clusterId: z.string().uuid(),
  name: z.string().trim().min(1, "Say what the token is for.").max(100).default("agent enrollment"),
  expiresInHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(24),
  maxUses: z.number().int().min(1).max(1000).default(1),
});

/**
 * A new enrollment token, shown once: its secret and the command that enrolls
 * an agent with it (pointing at this console's public URL).
 */
export async function createEnrollmentToken(
  deps: Pick<Services, "prisma" | "config">,
  actor: Actor,
  input: z.infer<typeof newEnrollmentTokenInput>,
) {
  const { prisma } = deps;
  const cluster = await prisma.cluster.findUnique({ where: { id: input.clusterId } });
  if (!cluster) throw new NotFoundError("Cluster", input.clusterId);
  const { secret, hash } = newSecret(ENROLLMENT_TOKEN_PREFIX);
  const token = await prisma.$transaction(async (tx) => {
    const token = await tx.enrollmentToken.create({
      data: {
        clusterId: input.clusterId,
        name: input.name,
        tokenHash: hash,
        expiresAt: new Date(Date.now() + input.expiresInHours * 3_600_000),
        maxUses: input.maxUses,
        createdById: actor.id,
      },
      select: { id: true, name: true, expiresAt: true, maxUses: true, uses: true, createdAt: true },
    });
    await recordAudit(tx, actor, {
      action: "agent.enrollment_token.create",
      targetType: "enrollment_token",
      targetId: token.id,
      clusterId: input.clusterId,
      after: token,
    });
    return token;
  });
  const command = `fulcrum-agent ${agentConsoleArgs(deps.config.publicUrl)} --token ${secret}`;
  return { ...token, secret, command };
}

export async function listEnrollmentTokens(prisma: PrismaClient, clusterId: string) {
  return prisma.enrollmentToken.findMany({
    where: { clusterId },
    orderBy: { createdAt: "desc" },
    select: {
      id: true,
      name: true,
      expiresAt: true,
      maxUses: true,
      uses: true,
      revokedAt: true,
      createdAt: true,
    },
  });
}

export async function revokeEnrollmentToken(prisma: PrismaClient, actor: Actor, id: string) {
  return prisma.$transaction(async (tx) => {
    const before = await tx.enrollmentToken.findUnique({ where: { id } });
    if (!before) throw new NotFoundError("Enrollment token", id);
    await tx.enrollmentToken.update({ where: { id }, data: { revokedAt: before.revokedAt ?? new Date() } });
    await recordAudit(tx, actor, {
      action: "agent.enrollment_token.revoke",
      targetType: "enrollment_token",
      targetId: id,
      clusterId: before.clusterId,
    });
    return { id };
  });
}

/** Trades a valid enrollment token for a per-agent credential, counting one use of the token. */
export async function enrollAgent(prisma: PrismaClient, req: EnrollRequest): Promise<EnrollResponse> {
  const { secret, hash } = newSecret(AGENT_CREDENTIAL_PREFIX);
  try {
    return await prisma.$transaction(async (tx) => {
      const token = await tx.enrollmentToken.findUnique({ where: { tokenHash: hashSecret(req.token) } });
      if (!token) throw new TokenInvalidError("Unknown enrollment token.");
      if (token.revokedAt) throw new TokenInvalidError("This enrollment token was revoked.");
      if (token.expiresAt < new Date()) throw new TokenInvalidError("This enrollment token has expired.");
      // Conditional increment: two agents racing for the last use cannot both win.
      const claimed = await tx.enrollmentToken.updateMany({
        where: { id: token.id, uses: { lt: token.maxUses } },
        data: { uses: { increment: 1 } },
      });
      if (claimed.count === 0) throw new TokenInvalidError("This enrollment token has been used up.");
      const existing = await tx.agent.findUnique({
        where: { clusterId_name: { clusterId: token.clusterId, name: req.name } },
      });
      if (existing && !existing.revokedAt) {
        throw new ConflictError(
          `An agent named ${req.name} is already enrolled; pick another --name or revoke it first.`,
        );
      }
      if (existing) await tx.agent.delete({ where: { id: existing.id } });
      const agent = await tx.agent.create({
        data: { clusterId: token.clusterId, name: req.name, credentialHash: hash },
      });
      await recordAudit(
        tx,
        { kind: "system", id: null, name: `agent ${req.name}`, role: "viewer" },
        {
          action: "agent.enroll",
          targetType: "agent",
          targetId: agent.id,
          clusterId: token.clusterId,
          after: { name: agent.name, enrollmentToken: token.name },
        },
      );
      return { agentId: agent.id, clusterId: agent.clusterId, credential: secret };
    });
  } catch (err) {
    throw translatePrismaError(err);
  }
}

export async function authenticateAgent(prisma: PrismaClient, credential: string) {
  const agent = await prisma.agent.findUnique({ where: { credentialHash: hashSecret(credential) } });
  if (!agent || agent.revokedAt) return null;
  return agent;
}

/**
 * A cluster's agents as the Agents page shows them (revoked ones too), without
 * their credentials: whether each is up, on this console or another one
 * (`connected`, `via`: domain/agent-liveness.ts), and the version it should run.
 */
export async function listAgents(deps: Pick<Services, "prisma" | "gateway">, clusterId: string) {
  const [agents, latest] = await Promise.all([
    deps.prisma.agent.findMany({ where: { clusterId }, orderBy: { name: "asc" } }),
    deps.prisma.configVersion.findFirst({
      where: { clusterId },
      orderBy: { version: "desc" },
      select: { version: true },
    }),
  ]);
  const liveness = livenessByAgent(deps, agents);
  return agents.map(({ credentialHash: _c, workers, ...a }) => {
    const { up, via } = liveness.get(a.id)!;
    return {
      ...a,
      workers: storedWorkers(workers),
      connected: up,
      via,
      desiredVersion: latest?.version ?? null,
    };
  });
}

/**
 * The workers report of the agent's last heartbeat, checked again on the way
 * out (the column is JSON an agent chose); null before the first one, from an
 * agent that sends none, or if it does not parse.
 */
function storedWorkers(stored: unknown): WorkersReport | null {
  const parsed = workersReportSchema.safeParse(stored);
  return parsed.success ? parsed.data : null;
}

type AgentAdminDeps = Pick<Services, "prisma" | "gateway">;

/**
 * Revoked agents keep their row (and history); deleted ones are gone. Either
 * way this console closes the agent's socket now, and the event committed with
 * the change makes every other console close it too.
 */
export async function revokeAgent(deps: AgentAdminDeps, actor: Actor, id: string): Promise<{ id: string }> {
  await deps.prisma.$transaction(async (tx) => {
    const before = await tx.agent.findUnique({ where: { id } });
    if (!before) throw new NotFoundError("Agent", id);
    await tx.agent.update({ where: { id }, data: { revokedAt: before.revokedAt ?? new Date() } });
    await recordAudit(tx, actor, {
      action: "agent.revoke",
      targetType: "agent",
      targetId: id,
      clusterId: before.clusterId,
    });
    await notifyInTransaction(tx, { type: "agent-revoked", agentId: id, origin: deps.gateway.instanceId });
  });
  deps.gateway.disconnect(id, CloseCode.revoked, "agent revoked");
  return { id };
}

export async function deleteAgent(deps: AgentAdminDeps, actor: Actor, id: string): Promise<{ id: string }> {
  await deps.prisma.$transaction(async (tx) => {
    const before = await tx.agent.findUnique({ where: { id } });
    if (!before) throw new NotFoundError("Agent", id);
    await tx.agent.delete({ where: { id } });
    const { credentialHash: _c, ...shown } = before;
    await recordAudit(tx, actor, {
      action: "agent.delete",
      targetType: "agent",
      targetId: id,
      clusterId: before.clusterId,
      before: shown,
    });
    await notifyInTransaction(tx, { type: "agent-revoked", agentId: id, origin: deps.gateway.instanceId });
  });
  deps.gateway.disconnect(id, CloseCode.revoked, "agent deleted");
  return { id };
}
