import { z } from "zod";

/*
 * TLS session-ticket keys shared by every agent of a cluster (issue 16,
 * "Session resumption"): a client resumes on any agent, whichever issued its
 * ticket. The console keeps one ring per cluster and rotates it on a schedule;
 * rings travel in their own `ticketKeys` message (messages.ts), never in a
 * snapshot, so a rotation makes no config version and no key reaches config
 * history.
 */

/** Bytes in one key: a 16-byte name, a 16-byte HMAC-SHA256 key, a 16-byte AES-128-CBC key (Node's order). */
export const TICKET_KEY_BYTES = 48;
/** Keys held: the previous one (still decrypts), the current one (encrypts), the next one (decrypts early). */
export const TICKET_KEY_RING_SIZE = 3;

/** 48 bytes in standard base64: exactly 64 characters, no padding (48 is a multiple of 3). */
export function isTicketKeyBase64(s: string): boolean {
  return /^[A-Za-z0-9+/]{64}$/.test(s);
}

const ticketKeySchema = z
  .string()
  .max(64)
  .refine(isTicketKeyBase64, "A ticket key is 48 bytes in base64 (64 characters).");

/**
 * One cluster's ring. `generation` grows by one at each rotation; after one,
 * previous = the old current, current = the old next, next = fresh random
 * bytes, which is what lets HAProxy follow with a single `set ssl tls-key`.
 */
export const ticketKeyRingSchema = z
  .object({
    generation: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    previous: ticketKeySchema,
    current: ticketKeySchema,
    next: ticketKeySchema,
  })
  .refine(
    (r) => new Set([r.previous, r.current, r.next].map((k) => k.slice(0, 21))).size === 3,
    "The three ticket keys must differ (names included).",
  );
export type TicketKeyRing = z.infer<typeof ticketKeyRingSchema>;

/** The hello capability of agents that understand the `ticketKeys` message. */
export const TICKET_KEYS_CAPABILITY = "tls-ticket-keys";
