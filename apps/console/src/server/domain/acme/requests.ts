import { isCertificateName } from "@fulcrum/protocol";
import { z } from "zod";
import { InvalidInputError, NotFoundError } from "../../errors";
import type { Actor } from "../actor";
import { idSchema, nameSchema } from "../schemas";
import { getCluster } from "../topology/clusters";
import { commitTopologyChange, type TopologyDeps } from "../topology-change";

/*
 * Automatic certificates (issue 16, ACME): what operators ask for and see.
 * The work itself is the scheduler's (scheduler.ts), which any console runs.
 */

export const acmeCreateInput = z.object({
  clusterId: idSchema,
  name: nameSchema,
  /** The listener that serves the certificate once issued; its route hosts are the default names. */
  listenerId: idSchema.optional(),
  /** DNS names to order; empty or absent: the listener's route hosts. */
  names: z
    .array(
      z
        .string()
        .max(253)
        .refine(
          (n) => isCertificateName(n) && !n.startsWith("*."),
          "Use a lower-case host name (HTTP-01 cannot validate wildcards).",
        ),
    )
    .max(100)
    .optional(),
});
export const acmeIdInput = z.object({ id: idSchema });
export const acmeListInput = z.object({ clusterId: idSchema });

export interface AcmeWaker {
  wake(): void;
}

export async function listAcmeCertificates(deps: TopologyDeps, clusterId: string) {
  return deps.prisma.acmeCertificate.findMany({
    where: { clusterId },
    orderBy: { name: "asc" },
    select: {
      id: true,
      name: true,
      names: true,
      listenerId: true,
      certificateId: true,
      status: true,
      lastError: true,
      failures: true,
      nextAttemptAt: true,
      updatedAt: true,
    },
  });
}

export async function createAcmeCertificate(
  deps: TopologyDeps & { acme?: AcmeWaker },
  actor: Actor,
  input: z.infer<typeof acmeCreateInput>,
) {
  await getCluster(deps, input.clusterId);
  let names = input.names ?? [];
  if (input.listenerId) {
    const l = await deps.prisma.listener.findUnique({
      where: { id: input.listenerId },
      select: { clusterId: true, protocol: true, routes: { select: { host: true } } },
    });
    if (!l || l.clusterId !== input.clusterId) throw new NotFoundError("Listener", input.listenerId);
    if (l.protocol !== "http") {
      throw new InvalidInputError("Only http listeners serve TLS.", {
        listenerId: "Only http listeners serve TLS.",
      });
    }
    if (names.length === 0) {
      names = l.routes
        .map((r) => r.host.toLowerCase())
        .filter((h) => h !== "" && isCertificateName(h) && !h.startsWith("*."));
    }
  }
  names = [...new Set(names)].sort();
  if (names.length === 0) {
    const message = "Give the names to order, or a listener whose routes name their hosts.";
    throw new InvalidInputError(message, { names: message });
  }
  const created = await commitTopologyChange(deps, actor, input.clusterId, async (tx) => {
    const row = await tx.acmeCertificate.create({
      data: { clusterId: input.clusterId, name: input.name, names, listenerId: input.listenerId ?? null },
    });
    return {
      result: row,
      audit: {
        action: "certificate.acme_create",
        targetType: "acme_certificate",
        targetId: row.id,
        after: { name: row.name, names },
      },
    };
  });
  deps.acme?.wake();
  return created;
}

/** Renew now (or retry a failed order now) instead of waiting for its time. */
export async function renewAcmeCertificateNow(
  deps: TopologyDeps & { acme?: AcmeWaker },
  actor: Actor,
  id: string,
) {
  const row = await deps.prisma.acmeCertificate.findUnique({ where: { id } });
  if (!row) throw new NotFoundError("Automatic certificate", id);
  const updated = await commitTopologyChange(deps, actor, row.clusterId, async (tx) => {
    const after = await tx.acmeCertificate.update({ where: { id }, data: { nextAttemptAt: new Date() } });
    return {
      result: after,
      audit: { action: "certificate.acme_renew_now", targetType: "acme_certificate", targetId: id },
    };
  });
  deps.acme?.wake();
  return updated;
}

/**
 * Stops the automation: the entry and its pending challenges go; the
 * certificate it issued stays (delete it on its own, it may serve listeners).
 */
export async function deleteAcmeCertificate(deps: TopologyDeps, actor: Actor, id: string) {
  const row = await deps.prisma.acmeCertificate.findUnique({ where: { id } });
  if (!row) throw new NotFoundError("Automatic certificate", id);
  return commitTopologyChange(deps, actor, row.clusterId, async (tx) => {
    await tx.acmeChallenge.deleteMany({ where: { acmeCertificateId: id } });
    await tx.acmeCertificate.delete({ where: { id } });
    return {
      result: { id },
      audit: {
        action: "certificate.acme_delete",
        targetType: "acme_certificate",
        targetId: id,
        before: { name: row.name, names: row.names, certificateId: row.certificateId },
      },
    };
  });
}
