import { writeLatin1 } from "./chars";
import {
  F_CONNECTION,
  F_CONTENT_LENGTH,
  F_HOST,
  F_HTTP2_SETTINGS,
  F_KEEP_ALIVE,
  F_PROXY_AUTHENTICATE,
  F_PROXY_AUTHORIZATION,
  F_PROXY_CONNECTION,
  F_TE,
  F_TRAILER,
  F_TRANSFER_ENCODING,
  F_UPGRADE,
  F_X_FORWARDED_FOR,
  F_X_FORWARDED_HOST,
  F_X_FORWARDED_PROTO,
  FIELD_CODES,
  type HeaderFields,
} from "./header-lines";
import type { RequestHead } from "./request-head";
import type { ResponseHead } from "./response-head";

/**
 * Builds the heads this proxy sends, each as one Buffer: the field lines it
 * keeps are copied byte for byte from the received head (no re-serializing),
 * and only the fields it adds are written from strings.
 */

/** Hop-by-hop fields (RFC 9110 §7.6.1) other than the framing ones, which are forwarded as they are. */
const HOP_BY_HOP = new Uint8Array(FIELD_CODES);
for (const c of [
  F_CONNECTION,
  F_KEEP_ALIVE,
  F_PROXY_CONNECTION,
  F_PROXY_AUTHENTICATE,
  F_PROXY_AUTHORIZATION,
  F_TE,
  F_TRAILER,
  F_UPGRADE,
  // Connection-specific to an h2c upgrade (RFC 7540 §3.2.1), which is never forwarded.
  F_HTTP2_SETTINGS,
]) {
  HOP_BY_HOP[c] = 1;
}

/**
 * Bodies are forwarded with the framing they came with, so Content-Length and
 * Transfer-Encoding must survive even when Connection names them (a request
 * naming "content-length" in Connection must not lose its framing upstream),
 * and Host is never dropped either.
 */
const NEVER_DROPPED = new Uint8Array(FIELD_CODES);
NEVER_DROPPED[F_CONTENT_LENGTH] = 1;
NEVER_DROPPED[F_TRANSFER_ENCODING] = 1;
NEVER_DROPPED[F_HOST] = 1;

function dropped(f: HeaderFields, i: number, connOthers: string[] | undefined): boolean {
  const code = f.codes[i]!;
  if (HOP_BY_HOP[code] === 1) return true;
  if (connOthers === undefined || NEVER_DROPPED[code] === 1) return false;
  for (let k = 0; k < connOthers.length; k++) if (f.named(i, connOthers[k]!)) return true;
  return false;
}

export interface ForwardedOptions {
  readonly clientIp: string;
  readonly proto: "http" | "https";
  /** Keep the client's X-Forwarded-* and append to X-Forwarded-For instead of overwriting them. */
  readonly trustForwarded: boolean;
  /** The connection's encoded X-Forwarded-* lines, reused while the Host stays the same. */
  readonly lines?: ForwardedLines;
}

/**
 * The X-Forwarded-* lines (and the head's closing blank line) a connection
 * adds when it does not trust the client's own: the same bytes for every
 * request with the same Host, so they are encoded once, not per request.
 */
export class ForwardedLines {
  private host: string | undefined;
  private bytes: Buffer = EMPTY;

  constructor(
    private readonly clientIp: string,
    private readonly proto: "http" | "https",
  ) {}

  for(host: string): Buffer {
    if (host !== this.host) {
      this.host = host;
      const xfh = host === "" ? "" : `X-Forwarded-Host: ${host}\r\n`;
      const text = `X-Forwarded-For: ${this.clientIp}\r\nX-Forwarded-Proto: ${this.proto}\r\n${xfh}\r\n`;
      // Not from Buffer's shared pool: a long-lived slice there would keep its whole 8 KiB slab
      // alive, with the per-request garbage around it, for every idle connection.
      this.bytes = Buffer.allocUnsafeSlow(text.length);
      writeLatin1(this.bytes, text, 0);
    }
    return this.bytes;
  }
}

const EMPTY = Buffer.alloc(0);
const NO_FIELDS: ReadonlyArray<readonly [string, string]> = [];
const HTTP11 = Buffer.from("HTTP/1.1 ", "latin1");

/**
 * The request head for the backend: the client's request line (its version
 * too: an HTTP/1.0 client gets an HTTP/1.0 exchange, so no chunked response
 * can reach it), hop-by-hop fields removed, X-Forwarded-* added. An
 * absolute-form request line goes out in origin-form with its authority as
 * Host (the client's Host is dropped); an h2c upgrade token is dropped.
 * `body`: request body bytes that follow the head in the same Buffer (the
 * ones that came with the head, copied once, straight from the read buffer).
 */
export function upstreamRequestHead(req: RequestHead, fwd: ForwardedOptions, body: Buffer = EMPTY): Buffer {
  const { buf, fields } = req;
  const n = fields.count;
  const lineEnd = n > 0 ? fields.lineStart(0) : req.end - 2;
  // With an absolute-form target the start line is written anew, after an empty copied prefix.
  const copyEnd = req.absolute ? req.start : lineEnd;
  let size = copyEnd - req.start;
  let keepProto = false;
  let keepHost = false;
  // Sized first, then copied: the second pass asks keep() again instead of allocating a list.
  for (let i = 0; i < n; i++) {
    if (keep(fields, i, req, fwd.trustForwarded)) {
      size += fields.lineEnd(i) - fields.lineStart(i);
      const code = fields.codes[i];
      if (code === F_X_FORWARDED_PROTO) keepProto = true;
      else if (code === F_X_FORWARDED_HOST) keepHost = true;
    }
  }
  if (!fwd.trustForwarded && !req.upgrade && !req.absolute && fwd.lines !== undefined) {
    // The usual case: nothing of the client's X-Forwarded-* kept, the lines come encoded.
    const lines = fwd.lines.for(req.host);
    const out = Buffer.allocUnsafe(size + lines.length + body.length);
    const o = copyKept(buf, req.start, lineEnd, fields, (i) => keep(fields, i, req, false), out, 0);
    lines.copy(out, o);
    if (body.length > 0) body.copy(out, o + lines.length);
    return out;
  }
  const xff = fwd.trustForwarded && req.xff !== undefined ? `${req.xff}, ${fwd.clientIp}` : fwd.clientIp;
  const start = req.absolute
    ? `${req.method} ${req.target} HTTP/1.${req.minor}\r\nHost: ${req.host}\r\n`
    : "";
  let extra = `X-Forwarded-For: ${xff}\r\n`;
  if (!keepProto) extra += `X-Forwarded-Proto: ${fwd.proto}\r\n`;
  if (!keepHost && req.host !== "") extra += `X-Forwarded-Host: ${req.host}\r\n`;
  if (req.upgrade) {
    if (req.upgradeValue !== undefined) extra += `Upgrade: ${req.upgradeValue}\r\n`;
    extra += "Connection: upgrade\r\n";
  }
  extra += "\r\n";
  const out = Buffer.allocUnsafe(start.length + size + extra.length + body.length);
  let o = start.length === 0 ? 0 : writeLatin1(out, start, 0);
  o = copyKept(buf, req.start, copyEnd, fields, (i) => keep(fields, i, req, fwd.trustForwarded), out, o);
  o += writeLatin1(out, extra, o);
  if (body.length > 0) body.copy(out, o);
  return out;
}

function keep(f: HeaderFields, i: number, req: RequestHead, trust: boolean): boolean {
  switch (f.codes[i]) {
    case F_X_FORWARDED_FOR:
      return false; // rewritten as one field
    case F_X_FORWARDED_PROTO:
    case F_X_FORWARDED_HOST:
      return trust;
    case F_UPGRADE:
      // Rewritten (h2c taken out of a list) or dropped (no upgrade, or h2c alone).
      return req.upgrade && req.upgradeValue === undefined;
    case F_HOST:
      // An absolute-form target's authority replaces it (RFC 9112 §3.2.2).
      return !req.absolute;
    default:
      return !dropped(f, i, req.connOthers);
  }
}

/**
 * The response head for the client: "HTTP/1.1" plus the backend's status and
 * reason, its fields minus hop-by-hop ones (a 101 keeps Connection/Upgrade),
 * the pool's extra fields (e.g. a sticky-session cookie), the listener's
 * (Strict-Transport-Security on a TLS listener) and our own
 * Connection: close when this connection ends after the response. With
 * `bodyEnd` past `resp.end`, the body bytes resp.buf[end, bodyEnd) follow in
 * the same Buffer.
 */
export function clientResponseHead(
  resp: ResponseHead,
  extraFields: ReadonlyArray<readonly [string, string]>,
  close: boolean,
  bodyEnd = resp.end,
  listenerFields: ReadonlyArray<readonly [string, string]> = NO_FIELDS,
): Buffer {
  const { buf, fields, connOthers } = resp;
  const n = fields.count;
  const keepAll = resp.status === 101;
  // The listener's fields replace the backend's of the same name (its HSTS wins over the backend's own).
  const kept =
    listenerFields.length === 0
      ? (i: number) => keepAll || !dropped(fields, i, connOthers)
      : (i: number) => keepAll || (!dropped(fields, i, connOthers) && !overridden(fields, i, listenerFields));
  let size = 9 + resp.statusLineEnd + 2 - resp.statusAt;
  for (let i = 0; i < n; i++) {
    if (kept(i)) size += fields.lineEnd(i) - fields.lineStart(i);
  }
  let extra = "";
  for (let i = 0; i < extraFields.length; i++) extra += `${extraFields[i]![0]}: ${extraFields[i]![1]}\r\n`;
  for (let i = 0; i < listenerFields.length; i++) {
    extra += `${listenerFields[i]![0]}: ${listenerFields[i]![1]}\r\n`;
  }
  if (close) extra += "Connection: close\r\n";
  extra += "\r\n";
  const out = Buffer.allocUnsafe(size + extra.length + (bodyEnd - resp.end));
  let o = HTTP11.copy(out, 0);
  o = copyKept(buf, resp.statusAt, resp.statusLineEnd + 2, fields, kept, out, o);
  // Most responses add nothing but the blank line: a byte, not a string to encode.
  if (extra.length === 2) {
    out[o++] = 13;
    out[o++] = 10;
  } else o += writeLatin1(out, extra, o);
  if (bodyEnd > resp.end) buf.copy(out, o, resp.end, bodyEnd);
  return out;
}

function overridden(f: HeaderFields, i: number, listenerFields: ReadonlyArray<readonly [string, string]>) {
  for (let k = 0; k < listenerFields.length; k++)
    if (f.named(i, listenerFields[k]![0].toLowerCase())) return true;
  return false;
}

/**
 * Copies buf[from, to) (the start line) and then every field line `kept`
 * says yes to, into out at `o`; returns the new offset. Adjacent kept lines
 * go in one copy: every Buffer#copy of a range makes a typed-array view, so
 * a head costs as many copies as it has runs of kept lines, not lines.
 */
function copyKept(
  buf: Buffer,
  from: number,
  to: number,
  fields: HeaderFields,
  kept: (i: number) => boolean,
  out: Buffer,
  o: number,
): number {
  let runStart = from;
  let runEnd = to;
  for (let i = 0; i < fields.count; i++) {
    if (!kept(i)) continue;
    const ls = fields.lineStart(i);
    if (ls !== runEnd) {
      o += buf.copy(out, o, runStart, runEnd);
      runStart = ls;
    }
    runEnd = fields.lineEnd(i);
  }
  return o + buf.copy(out, o, runStart, runEnd);
}
