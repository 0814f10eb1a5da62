import { z } from "zod";
import { caBundleMaterialSchema, MAX_SNAPSHOT_CA_BUNDLES } from "./backend-tls";
import { isHostOrIp, isId } from "./grammar";
import { snapshotSchema } from "./snapshot";
import { statsPayload } from "./stats";
import { ticketKeyRingSchema } from "./ticket-keys";
import { MAX_SNAPSHOT_CERTIFICATES, tlsMaterialSchema } from "./tls";
import { workersReportSchema } from "./workers";

/**
 * The message catalog. Every frame on the agent WebSocket is one JSON envelope
 * `{v, type, id, payload}`; `type` selects the payload schema, per direction.
 */
const envelope = <T extends string, P extends z.ZodType>(type: T, payload: P) =>
  z.object({
    v: z.number().int(),
    type: z.literal(type),
    id: z.string().min(1).max(64),
    payload,
  });

// ----- agent → console -----
export const helloPayload = z.object({
  name: z.string().min(1).max(128),
  softwareVersion: z.string().max(64),
  protocolVersions: z.array(z.number().int()).min(1),
  capabilities: z.array(z.string()).default([]),
  appliedVersion: z.number().int().nullable(),
  appliedHash: z.string().nullable().default(null),
});
export const ackPayload = z.object({ version: z.number().int(), hash: z.string() });
export const nackPayload = z.object({ version: z.number().int(), reason: z.string().max(4000) });
export const heartbeatPayload = z.object({
  appliedVersion: z.number().int().nullable(),
  uptimeMs: z.number(),
  /** The node's data-plane workers (workers.ts); absent from agents before issue 17. */
  workers: workersReportSchema.optional(),
});
export const errorPayload = z.object({ code: z.string(), message: z.string() });

/**
 * A backend's health or drain state changed on this agent. Ids and address come
 * from the snapshot (same grammar); they reach the console's database and logs.
 */
export const healthEventSchema = z.object({
  poolId: z.string().refine(isId, "Use a snapshot id."),
  backendId: z.string().refine(isId, "Use a snapshot id."),
  address: z.string().refine(isHostOrIp, "Use an IP address or a host name."),
  port: z.number().int().min(0).max(65535),
  state: z.enum(["up", "down", "ejected", "restored", "drained"]),
  reason: z.string().max(500).optional(),
  at: z
    .string()
    .max(64)
    .refine((s) => Number.isFinite(Date.parse(s)), "Use an ISO 8601 time."),
});
export type HealthEvent = z.infer<typeof healthEventSchema>;
export const healthPayload = z.object({ events: z.array(healthEventSchema).max(1000) });

export const agentMessageSchema = z.discriminatedUnion("type", [
  envelope("hello", helloPayload),
  envelope("ack", ackPayload),
  envelope("nack", nackPayload),
  envelope("heartbeat", heartbeatPayload),
  envelope("health", healthPayload),
  envelope("stats", statsPayload),
  envelope("error", errorPayload),
]);
export type AgentMessage = z.infer<typeof agentMessageSchema>;

// ----- console → agent -----
export const welcomePayload = z.object({
  agentId: z.string(),
  clusterId: z.string(),
  protocolVersion: z.number().int(),
  heartbeatIntervalMs: z.number().int().positive(),
});
/**
 * `tlsMaterial`: the keys and chains of the snapshot's certificates, decrypted by
 * the console just before sending, outside the hashed snapshot body and never
 * stored in a config version. Absent: no material (a snapshot without TLS
 * listeners, or a console from before issue 16). missingTlsMaterial (tls.ts)
 * says what a snapshot's listeners lack.
 */
export const snapshotPayload = z.object({
  snapshot: snapshotSchema,
  tlsMaterial: z.array(tlsMaterialSchema).max(MAX_SNAPSHOT_CERTIFICATES).optional(),
  /** PEM of the CA bundles the snapshot's pools verify backends against (backend-tls.ts); absent: none. */
  caBundles: z.array(caBundleMaterialSchema).max(MAX_SNAPSHOT_CA_BUNDLES).optional(),
});
export const pingPayload = z.object({});
/**
 * The cluster's session-ticket key ring (ticket-keys.ts): sent after the
 * welcome, before the snapshot, and again at each rotation. Only to agents
 * whose hello lists TICKET_KEYS_CAPABILITY; not part of any snapshot.
 */
export const ticketKeysPayload = ticketKeyRingSchema;

export const consoleMessageSchema = z.discriminatedUnion("type", [
  envelope("welcome", welcomePayload),
  envelope("snapshot", snapshotPayload),
  envelope("ping", pingPayload),
  envelope("ticketKeys", ticketKeysPayload),
  envelope("error", errorPayload),
]);
export type ConsoleMessage = z.infer<typeof consoleMessageSchema>;

type PayloadOf<U, T> = U extends { type: T; payload: infer P } ? P : never;
export type AgentMessageType = AgentMessage["type"];
export type ConsoleMessageType = ConsoleMessage["type"];
export type AgentPayload<T extends AgentMessageType> = PayloadOf<AgentMessage, T>;
export type ConsolePayload<T extends ConsoleMessageType> = PayloadOf<ConsoleMessage, T>;
