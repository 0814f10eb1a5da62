import type { TicketKeyRing } from "@fulcrum/protocol";
import { decodeTicketKey } from "../../dataplane/frontends/tls/ticket-keys";
import { HaproxyRuntimeError } from "./errors";
import { runtimeCommand } from "./runtime-api";

/*
 * HAProxy's side of the cluster's session-ticket keys. The bind option
 * `tls-ticket-keys <file>` loads base64 keys one per line; HAProxy keeps the
 * last three, encrypts with the penultimate and decrypts with all, so the
 * file lists previous, current, next. A rotation is one runtime command,
 * `set ssl tls-key <file> <key>`: the new key becomes the last, the one before
 * it (the old next) encrypts, the oldest is dropped; no reload.
 */

/**
 * A ring key (name | HMAC key | AES key, Node's order) in HAProxy's order
 * (name | AES key | HMAC key, its struct tls_sess_key_128), so both engines
 * read each other's tickets.
 */
export function haproxyTicketKey(base64: string): string {
  const k = decodeTicketKey(base64);
  return Buffer.concat([k.subarray(0, 16), k.subarray(32, 48), k.subarray(16, 32)]).toString("base64");
}

/** The keys file: previous, current (the penultimate line encrypts), next. */
export function renderTicketKeysFile(ring: TicketKeyRing): string {
  return `${[ring.previous, ring.current, ring.next].map(haproxyTicketKey).join("\n")}\n`;
}

export function sameRing(a: TicketKeyRing, b: TicketKeyRing): boolean {
  return a.previous === b.previous && a.current === b.current && a.next === b.next;
}

/**
 * The keys to `set ssl tls-key`, in order, to turn HAProxy's ring `from` into
 * `to`: one (the new next) after a single rotation, all three (oldest first)
 * after a jump (an agent that missed rotations while disconnected), none when
 * they are equal.
 */
export function runtimeTicketKeys(from: TicketKeyRing, to: TicketKeyRing): string[] {
  if (sameRing(from, to)) return [];
  if (to.previous === from.current && to.current === from.next) return [to.next];
  return [to.previous, to.current, to.next];
}

/** `set ssl tls-key <file> <key>` (the key in HAProxy's order); HAProxy answers "TLS ticket key updated!". */
export async function setTlsKey(socketPath: string, file: string, key: string): Promise<void> {
  const out = await runtimeCommand(socketPath, `set ssl tls-key ${file} ${haproxyTicketKey(key)}`);
  if (!/TLS ticket key updated/.test(out)) {
    throw new HaproxyRuntimeError(`set ssl tls-key ${file}: ${out.trim().slice(0, 300)}`);
  }
}
