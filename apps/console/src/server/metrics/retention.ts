import type { PrismaClient } from "@fulcrum/db";
import type { Logger } from "../logger";
import { deleteOlderThan } from "./rollups";

/**
 * Deleting what the retention (FULCRUM_METRICS_RETENTION_DAYS) no longer
 * keeps: rollups, agent config events and health events. Its own file so the
 * store's timers only schedule it, and the logging of what went lives with it.
 */

const DAY = 86_400_000;

/** Deletes rows older than `retentionDays` before `now`; logs what went, and failures. */
export async function deleteExpired(
  deps: { prisma: PrismaClient; log: Logger; retentionDays: number },
  now: number,
): Promise<{ rollups: number; events: number; health: number }> {
  try {
    const deleted = await deleteOlderThan(deps.prisma, now - deps.retentionDays * DAY);
    if (deleted.rollups + deleted.events > 0) deps.log.info("metrics retention", deleted);
    return deleted;
  } catch (err) {
    deps.log.error("metrics retention failed", { err });
    throw err;
  }
}
