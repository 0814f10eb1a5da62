/**
 * Header translation between HTTP/1.1-shaped raw pairs and HTTP/2 header
 * objects (RFC 9113 §8.2): names lower-cased, Host carried as :authority,
 * connection-specific fields never sent (node:http2 would refuse them), `te`
 * only as "trailers" (what gRPC asks for), cookies kept as separate fields.
 */

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";

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
    const value = raw[i + 1]!;
    const had = out[name];
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
