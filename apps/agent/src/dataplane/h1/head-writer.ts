import { writeLatin1 } from "./chars";
import type { RequestHead } from "./request-head";
import type { ResponseHead } from "./response-head";

/**
 * Builds the heads this proxy sends, each as one Buffer: the field lines it
 * keeps are copied byte for byte from the received head (no re-serializing),
 * and only the fields it adds are written from strings.
 */

/** Hop-by-hop fields (RFC 9110 §7.6.1) other than the framing ones, which are forwarded as they are. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "upgrade",
]);

/**
 * Bodies are forwarded with the framing they came with, so Content-Length and
 * Transfer-Encoding must survive even when Connection names them (a request
 * naming "content-length" in Connection must not lose its framing upstream),
 * and Host is never dropped either.
 */
const NEVER_DROPPED = new Set(["content-length", "transfer-encoding", "host"]);

const dropped = (name: string, tokens: Set<string> | undefined): boolean =>
  HOP_BY_HOP.has(name) || (tokens?.has(name) === true && !NEVER_DROPPED.has(name));

export interface ForwardedOptions {
  readonly clientIp: string;
  readonly proto: "http" | "https";
  /** Keep the client's X-Forwarded-* and append to X-Forwarded-For instead of overwriting them. */
  readonly trustForwarded: boolean;
}

/**
 * The request head for the backend: the client's request line (its version
 * too: an HTTP/1.0 client gets an HTTP/1.0 exchange, so no chunked response
 * can reach it), hop-by-hop fields removed, X-Forwarded-* added.
 */
export function upstreamRequestHead(req: RequestHead, fwd: ForwardedOptions): Buffer {
  const { buf, spans, lower } = req;
  const lineEnd = spans.length > 0 ? spans[0]! : req.end - 2;
  let size = lineEnd - req.start;
  const tokens = req.connTokens;
  let keepProto = false;
  let keepHost = false;
  // Mark kept fields by zeroing nothing: a second pass copies what the first one sized.
  for (let i = 0; i < lower.length; i++) {
    const name = lower[i]!;
    if (keep(name, req, fwd.trustForwarded, tokens)) {
      size += spans[2 * i + 1]! - spans[2 * i]!;
      if (name === "x-forwarded-proto") keepProto = true;
      else if (name === "x-forwarded-host") keepHost = true;
    }
  }
  const xff = fwd.trustForwarded && req.xff !== undefined ? `${req.xff}, ${fwd.clientIp}` : fwd.clientIp;
  let extra = `X-Forwarded-For: ${xff}\r\n`;
  if (!keepProto) extra += `X-Forwarded-Proto: ${fwd.proto}\r\n`;
  if (!keepHost && req.host !== "") extra += `X-Forwarded-Host: ${req.host}\r\n`;
  if (req.upgrade) extra += "Connection: upgrade\r\n";
  extra += "\r\n";
  const out = Buffer.allocUnsafe(size + extra.length);
  let o = buf.copy(out, 0, req.start, lineEnd);
  for (let i = 0; i < lower.length; i++) {
    if (keep(lower[i]!, req, fwd.trustForwarded, tokens)) {
      o += buf.copy(out, o, spans[2 * i]!, spans[2 * i + 1]!);
    }
  }
  writeLatin1(out, extra, o);
  return out;
}

function keep(name: string, req: RequestHead, trust: boolean, tokens: Set<string> | undefined): boolean {
  if (name === "x-forwarded-for") return false; // rewritten as one field
  if (name === "x-forwarded-proto" || name === "x-forwarded-host") return trust;
  if (name === "upgrade") return req.upgrade;
  return !dropped(name, tokens);
}

/**
 * The response head for the client: "HTTP/1.1" plus the backend's status and
 * reason, its fields minus hop-by-hop ones (a 101 keeps Connection/Upgrade),
 * the pool's extra fields (e.g. a sticky-session cookie) and our own
 * Connection: close when this connection ends after the response. With
 * `bodyEnd` past `resp.end`, the body bytes resp.buf[end, bodyEnd) follow in
 * the same Buffer.
 */
export function clientResponseHead(
  resp: ResponseHead,
  extraFields: ReadonlyArray<readonly [string, string]>,
  close: boolean,
  bodyEnd = resp.end,
): Buffer {
  const { buf, spans, lower } = resp;
  const tokens = resp.connTokens;
  const keepAll = resp.status === 101;
  let size = 9 + resp.statusLineEnd + 2 - resp.statusAt;
  for (let i = 0; i < lower.length; i++) {
    if (keepAll || !dropped(lower[i]!, tokens)) size += spans[2 * i + 1]! - spans[2 * i]!;
  }
  let extra = "";
  for (let i = 0; i < extraFields.length; i++) extra += `${extraFields[i]![0]}: ${extraFields[i]![1]}\r\n`;
  if (close) extra += "Connection: close\r\n";
  extra += "\r\n";
  const out = Buffer.allocUnsafe(size + extra.length + (bodyEnd - resp.end));
  let o = writeLatin1(out, "HTTP/1.1 ", 0);
  o += buf.copy(out, o, resp.statusAt, resp.statusLineEnd + 2);
  for (let i = 0; i < lower.length; i++) {
    if (keepAll || !dropped(lower[i]!, tokens)) o += buf.copy(out, o, spans[2 * i]!, spans[2 * i + 1]!);
  }
  o += writeLatin1(out, extra, o);
  if (bodyEnd > resp.end) buf.copy(out, o, resp.end, bodyEnd);
  return out;
}
