import { randomBytes } from "node:crypto";
import { TICKET_KEY_BYTES, type TicketKeyRing, ticketKeyRingSchema } from "@fulcrum/protocol";
import { TicketKeysInvalidError } from "../../../errors";

/** A ring key as bytes; the schema checked the base64, this checks the length where it is used. */
export function decodeTicketKey(base64: string): Buffer {
  const key = Buffer.from(base64, "base64");
  if (key.length !== TICKET_KEY_BYTES || key.toString("base64") !== base64) {
    throw new TicketKeysInvalidError(`a ticket key must be ${TICKET_KEY_BYTES} bytes in base64`);
  }
  return key;
}

/** Checks a ring (schema and key lengths) before anything uses it. */
export function checkTicketKeyRing(ring: unknown): TicketKeyRing {
  const parsed = ticketKeyRingSchema.safeParse(ring);
  if (!parsed.success) {
    throw new TicketKeysInvalidError(`invalid ticket-key ring: ${parsed.error.issues[0]?.message}`);
  }
  for (const k of [parsed.data.previous, parsed.data.current, parsed.data.next]) decodeTicketKey(k);
  return parsed.data;
}

/** A ring of fresh random keys: `--config` mode without keys in the file (this process only). */
export function randomTicketKeyRing(): TicketKeyRing {
  const key = () => randomBytes(TICKET_KEY_BYTES).toString("base64");
  return { generation: 1, previous: key(), current: key(), next: key() };
}

/**
 * The builtin engine's one ticket key, shared by all its TLS listeners: each
 * listener's server takes it when it is made and whenever it changes. Node
 * holds a single key per server (`setTicketKeys`, 48 bytes), so only the
 * ring's current key is used; tickets made with the previous one fall back to
 * a full handshake after a rotation.
 */
export class SharedTicketKey {
  private key: Buffer | undefined;
  private readonly subscribers = new Set<(key: Buffer) => void>();

  /** The key listeners use now; undefined until a ring arrives (Node's random per-server keys until then). */
  get current(): Buffer | undefined {
    return this.key;
  }

  /** Takes the ring's current key; throws TicketKeysInvalidError (and keeps the old key) on a bad ring. */
  use(ring: TicketKeyRing): void {
    const key = decodeTicketKey(checkTicketKeyRing(ring).current);
    if (this.key?.equals(key)) return;
    this.key = key;
    for (const fn of this.subscribers) fn(key);
  }

  /** Calls `fn` at each change; returns the unsubscribe function. */
  subscribe(fn: (key: Buffer) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }
}
