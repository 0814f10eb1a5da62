import { STATUS_CODES } from "node:http";
import type { LocalReason } from "../../http/local-reply";

/** The same reasons as the node:http front end (local-reply.ts). */
export type H1LocalReason = LocalReason;

const cache = new Map<string, Buffer>();

/**
 * A reply the proxy makes itself, in the same format as the node:http path
 * (text body, no-store, `x-fulcrum-reason`), as a ready Buffer: the set of
 * replies is small and fixed, so each is serialized once.
 */
export function localReply(status: number, reason: H1LocalReason, text: string, close: boolean): Buffer {
  const key = `${status}|${reason}|${close ? 1 : 0}|${text}`;
  let buf = cache.get(key);
  if (buf === undefined) {
    const body = `${text}\n`;
    buf = Buffer.from(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n` +
        "content-type: text/plain; charset=utf-8\r\n" +
        `content-length: ${Buffer.byteLength(body)}\r\n` +
        "cache-control: no-store\r\n" +
        `x-fulcrum-reason: ${reason}\r\n` +
        (close ? "connection: close\r\n" : "") +
        `\r\n${body}`,
      "latin1",
    );
    cache.set(key, buf);
  }
  return buf;
}

/**
 * `reply` (one of the serialized answers above, or a redirect's or ACME
 * token's) with the listener's own fields after its status line: a TLS
 * listener's Strict-Transport-Security goes on the proxy's replies as on
 * a backend's (RFC 6797 §7.1: on every response over a secure transport).
 */
export function withListenerFields(reply: Buffer, fields: ReadonlyArray<readonly [string, string]>): Buffer {
  if (fields.length === 0) return reply;
  const statusEnd = reply.indexOf("\r\n") + 2;
  let lines = "";
  for (const [name, value] of fields) lines += `${name}: ${value}\r\n`;
  return Buffer.concat([
    reply.subarray(0, statusEnd),
    Buffer.from(lines, "latin1"),
    reply.subarray(statusEnd),
  ]);
}
