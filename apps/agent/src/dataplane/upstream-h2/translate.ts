/**
 * Header translation between HTTP/1.1-shaped raw pairs and HTTP/2 header
 * objects (RFC 9113 §8.2): names lower-cased, Host carried as :authority,
 * connection-specific fields never sent (node:http2 would refuse them), `te`
 * only as "trailers" (what gRPC asks for), cookies kept as separate fields.
 */

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import { AgentError } from "../../errors";

export type Trailers = Record<string, string | string[]>;

/** Fields HTTP/2 forbids (RFC 9113 §8.2.2), Host (→ :authority), and upstreamRequestHeaders' hop-by-hop set. */
const NOT_IN_H2 = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "host",
  "te",
  "trailer",
  "http2-settings",
  "proxy-authenticate",
  "proxy-authorization",
]);

/**
 * Fields node:http2 accepts once only (its kSingleValueHeaders): given twice it
 * throws ERR_HTTP2_HEADER_SINGLE_VALUE. An HTTP/1.1 client may send them twice.
 */
const SINGLE_VALUE = new Set([
  "access-control-allow-credentials",
  "access-control-max-age",
  "access-control-request-method",
  "age",
  "authorization",
  "content-encoding",
  "content-language",
  "content-length",
  "content-location",
  "content-md5",
  "content-range",
  "content-type",
  "date",
  "dnt",
  "etag",
  "expires",
  "from",
  "host",
  "if-match",
  "if-modified-since",
  "if-none-match",
  "if-range",
  "if-unmodified-since",
  "last-modified",
  "location",
  "max-forwards",
  "proxy-authorization",
  "range",
  "referer",
  "retry-after",
  "tk",
  "upgrade-insecure-requests",
  "user-agent",
  "x-content-type-options",
]);

/** RFC 9110 token: what node:http2 accepts as a field name (it throws on anything else). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

/** The client's request head cannot be said in HTTP/2 (a repeated single-value field): the client's fault, 400. */
export class H2RequestHeaderError extends AgentError {
  readonly code = "h2_request_header_invalid";
}

export interface H2RequestLine {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly headers: readonly string[];
}

/** The HTTP/2 request head for the backend; `protocol` sets :scheme (https for h2, http for h2c). */
export function h2RequestHeaders(req: H2RequestLine, protocol: "h2" | "h2c"): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {
    ":method": req.method,
    ":path": req.path,
    ":scheme": protocol === "h2" ? "https" : "http",
    ":authority": req.authority,
  };
  const raw = req.headers;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (NOT_IN_H2.has(name) || name.startsWith(":")) continue;
    if (!TOKEN.test(name))
      throw new H2RequestHeaderError(`request header name is not a token: ${JSON.stringify(name)}`);
    const value = raw[i + 1]!;
    const had = out[name];
    if (had !== undefined && SINGLE_VALUE.has(name)) {
      // Joining would change its meaning (two Content-Types, two Authorizations): refused, never guessed.
      throw new H2RequestHeaderError(`request header ${name} appears more than once`);
    }
    if (had === undefined) out[name] = value;
    else if (Array.isArray(had)) had.push(value);
    else out[name] = [String(had), value];
  }
  // gRPC servers may insist on it; it says we accept trailers, which we forward.
  if (typeof out["content-type"] === "string" && out["content-type"].startsWith("application/grpc")) {
    out.te = "trailers";
  }
  return out;
}

/** The backend's response head as raw pairs for the client: no pseudo-headers, nothing connection-specific. */
export function h2ResponseHeaders(h: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(h)) {
    if (value === undefined || name.startsWith(":") || NOT_IN_H2.has(name)) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, String(value));
  }
  return out;
}

/**
 * Trailer fields one side may pass on over HTTP/2: no pseudo-headers, nothing
 * connection-specific (node:http2 throws on those, `te` included), no framing
 * fields, only token names; single-value fields keep their first value.
 */
export function trailerPairs(t: Trailers): Trailers {
  const out: Trailers = {};
  for (const [name, value] of Object.entries(t)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (lower.startsWith(":") || NOT_IN_H2.has(lower) || lower === "content-length" || !TOKEN.test(lower)) {
      continue;
    }
    out[lower] = Array.isArray(value) && SINGLE_VALUE.has(lower) ? value[0]! : value;
  }
  return out;
}
