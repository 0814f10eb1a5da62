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
