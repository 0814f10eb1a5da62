import type { Database, Prisma } from "@fulcrum/db";
import { listenForNotifications, type NotificationListener } from "@fulcrum/db";
import { CloseCode } from "@fulcrum/protocol";
import { z } from "zod";
import type { Logger } from "../logger";

/**
 * Events that every console process sharing the database must hear: a
 * cluster's configuration changed, or an agent was revoked. They are sent with
 * NOTIFY inside the transaction that makes the change, so PostgreSQL delivers
 * them only if it commits.
 */
export const CLUSTER_EVENTS_CHANNEL = "fulcrum_cluster_events";

const eventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("config-changed"), clusterId: z.string(), origin: z.string() }),
  z.object({ type: z.literal("agent-revoked"), agentId: z.string(), origin: z.string() }),
  /** A cluster's ticket-key ring was rotated (the ring itself is read from the database, never sent here). */
  z.object({ type: z.literal("ticket-keys-rotated"), clusterId: z.string(), origin: z.string() }),
]);
export type ClusterEvent = z.infer<typeof eventSchema>;

export async function notifyInTransaction(tx: Prisma.TransactionClient, event: ClusterEvent): Promise<void> {
  await tx.$executeRaw`SELECT pg_notify(${CLUSTER_EVENTS_CHANNEL}, ${JSON.stringify(event)})`;
}

/** What the relay drives: the local agent gateway. */
export interface EventTarget {
  readonly instanceId: string;
  clusterChanged(clusterId: string): void;
  /** Sends the cluster's current ticket-key ring to its connected agents. */
  ticketKeysChanged(clusterId: string): void;
  disconnect(agentId: string, code: number, reason: string): void;
  /** After a lost LISTEN connection: re-push every cluster (config and ticket keys) with local agents. */
  resync(): void;
}

/** Applies other consoles' events to this console's gateway; its own were applied locally already. */
export async function startClusterEventRelay(
  db: Database,
  target: EventTarget,
  log: Logger,
): Promise<NotificationListener> {
  return listenForNotifications(
    db,
    CLUSTER_EVENTS_CHANNEL,
    (payload) => {
      let event: ClusterEvent;
      try {
        event = eventSchema.parse(JSON.parse(payload));
      } catch {
        log.warn("ignored a malformed cluster event", { payload: payload.slice(0, 200) });
        return;
      }
      if (event.origin === target.instanceId) return;
      if (event.type === "config-changed") target.clusterChanged(event.clusterId);
      else if (event.type === "ticket-keys-rotated") target.ticketKeysChanged(event.clusterId);
      else target.disconnect(event.agentId, CloseCode.revoked, "agent revoked");
    },
    {
      onReconnect: () => {
        log.info("cluster events: listening again; re-pushing current configs");
        target.resync();
      },
      onError: (err) => log.warn("cluster events connection failed", { err }),
    },
  );
}
