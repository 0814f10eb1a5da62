import { randomBytes } from "node:crypto";
import type { PrismaClient } from "@fulcrum/db";
import { TICKET_KEY_BYTES, type TicketKeyRing, ticketKeyRingSchema } from "@fulcrum/protocol";
import { notifyInTransaction } from "../../events/cluster-events";
import { SYSTEM_ACTOR } from "../actor";
import { recordAudit } from "../audit";
import { decryptPrivateKey, encryptPrivateKey, type KeyRing } from "../certificates/key-encryption";

/*
 * One ticket-key ring per cluster (issue 16), in ticket_key_rings: encrypted
 * like certificate keys (AES-256-GCM under FULCRUM_SECRET, bound to the
 * cluster and generation), created when a cluster's first agent connects,
 * rotated when nextRotationAt passes. Creating and rotating are
 * compare-and-sets on the row (insert if absent, update if the generation is
 * still the one read), so two consoles on one database rotate once.
 */

export interface TicketKeyDeps {
  prisma: PrismaClient;
  keys: KeyRing;
  /** Time between rotations. */
  rotationMs: number;
  /** The console's id, sent with the rotation event so it does not act on its own event twice. */
  origin: string;
  /** Called after this console rotated a cluster's ring (the gateway pushes it to its agents). */
  onRotated?: (clusterId: string) => void;
}

const freshKey = () => randomBytes(TICKET_KEY_BYTES).toString("base64");
const aad = (clusterId: string, generation: number) => `fulcrum ticket keys ${clusterId} ${generation}`;

function seal(deps: TicketKeyDeps, clusterId: string, ring: TicketKeyRing) {
  const body = JSON.stringify({ previous: ring.previous, current: ring.current, next: ring.next });
  const { ciphertext, keyId } = encryptPrivateKey(deps.keys, body, aad(clusterId, ring.generation));
  return { keysCiphertext: ciphertext, encryptionKeyId: keyId };
}

interface RingRow {
  clusterId: string;
  generation: number;
  keysCiphertext: Uint8Array;
  encryptionKeyId: string;
}

/** The row's ring; throws KeyDecryptionError when its secret is not configured (or the row was altered). */
function open(deps: TicketKeyDeps, row: RingRow): TicketKeyRing {
  const body = decryptPrivateKey(
    deps.keys,
    row.keysCiphertext,
    row.encryptionKeyId,
    aad(row.clusterId, row.generation),
  );
  return ticketKeyRingSchema.parse({ generation: row.generation, ...JSON.parse(body) });
}

/**
 * The ring after `from` (previous ← current, current ← next, a fresh next), or
 * a wholly fresh one when there is none (or it cannot be read).
 */
export function nextRing(from: TicketKeyRing | undefined, generation: number): TicketKeyRing {
  if (!from) return { generation, previous: freshKey(), current: freshKey(), next: freshKey() };
  return { generation, previous: from.current, current: from.next, next: freshKey() };
}

/** The cluster's current ring, creating it (once, whichever console asks first) if it has none. */
export async function currentTicketKeys(deps: TicketKeyDeps, clusterId: string): Promise<TicketKeyRing> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = await deps.prisma.ticketKeyRing.findUnique({ where: { clusterId } });
    if (row) {
      try {
        return open(deps, row);
      } catch {
        // Unreadable (its secret is gone): a new ring replaces it; tickets fall back to full handshakes once.
        await rotate(deps, clusterId, row.generation, undefined);
        continue;
      }
    }
    const ring = nextRing(undefined, 1);
    const now = new Date();
    await deps.prisma.$transaction(async (tx) => {
      const { count } = await tx.ticketKeyRing.createMany({
        data: [
          {
            clusterId,
            generation: 1,
            ...seal(deps, clusterId, ring),
            rotatedAt: now,
            nextRotationAt: new Date(now.getTime() + deps.rotationMs),
          },
        ],
        skipDuplicates: true,
      });
      if (count === 1) {
        await recordAudit(tx, SYSTEM_ACTOR, {
          action: "ticketKeys.create",
          targetType: "cluster",
          targetId: clusterId,
          clusterId,
          after: { generation: 1 },
        });
      }
    });
    // Re-read: another console may have inserted first, and its ring is the one.
  }
  throw new Error(`cluster ${clusterId}: the ticket-key ring could not be read or created`);
}

/**
 * Replaces generation `from` with the next ring if nobody did first; audited,
 * and announced to every console (the ring itself never goes in the event).
 * Returns whether this call rotated.
 */
async function rotate(
  deps: TicketKeyDeps,
  clusterId: string,
  from: number,
  old: TicketKeyRing | undefined,
): Promise<boolean> {
  const ring = nextRing(old, from + 1);
  const now = new Date();
  const rotated = await deps.prisma.$transaction(async (tx) => {
    const { count } = await tx.ticketKeyRing.updateMany({
      where: { clusterId, generation: from },
      data: {
        generation: ring.generation,
        ...seal(deps, clusterId, ring),
        rotatedAt: now,
        nextRotationAt: new Date(now.getTime() + deps.rotationMs),
      },
    });
    if (count !== 1) return false;
    await recordAudit(tx, SYSTEM_ACTOR, {
      action: "ticketKeys.rotate",
      targetType: "cluster",
      targetId: clusterId,
      clusterId,
      before: { generation: from },
      after: { generation: ring.generation, ...(old ? {} : { reason: "previous ring unreadable" }) },
    });
    await notifyInTransaction(tx, { type: "ticket-keys-rotated", clusterId, origin: deps.origin });
    return true;
  });
  if (rotated) deps.onRotated?.(clusterId);
  return rotated;
}

/** Rotates every ring due by `now`; returns the clusters this console rotated. */
export async function rotateDueTicketKeys(deps: TicketKeyDeps, now = new Date()): Promise<string[]> {
  const due = await deps.prisma.ticketKeyRing.findMany({
    where: { nextRotationAt: { lte: now } },
    orderBy: { nextRotationAt: "asc" },
    take: 100,
  });
  const rotated: string[] = [];
  for (const row of due) {
    let old: TicketKeyRing | undefined;
    try {
      old = open(deps, row);
    } catch {
      old = undefined;
    }
    if (await rotate(deps, row.clusterId, row.generation, old)) rotated.push(row.clusterId);
  }
  return rotated;
}

/** What the Certificates page shows: when, not what (no key ever leaves through an API). */
export async function ticketKeyState(deps: Pick<TicketKeyDeps, "prisma" | "rotationMs">, clusterId: string) {
  const row = await deps.prisma.ticketKeyRing.findUnique({
    where: { clusterId },
    select: { generation: true, rotatedAt: true, nextRotationAt: true },
  });
  return { rotationIntervalMs: deps.rotationMs, ring: row };
}
