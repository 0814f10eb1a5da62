/**
 * Header rewriting on raw header arrays ([name, value, name, value, ...]):
 * cheaper than building and editing header objects (see the proxy speed notes),
 * and it keeps the client's header order and casing.
 */

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  // Connection-specific to an h2c upgrade (RFC 7540 §3.2.1), which is never forwarded.
  "http2-settings",
]);

/** Headers named in Connection are hop-by-hop too (RFC 9110 §7.6.1). */
function connectionTokens(raw: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== "connection") continue;
    for (const t of raw[i + 1]!.split(",")) {
      const name = t.trim().toLowerCase();
      if (!name) continue;
      tokens ??= new Set();
      tokens.add(name);
    }
  }
  return tokens;
}

export interface ForwardedFor {
  clientIp: string;
  proto: "http" | "https";
  /** The Host the client asked for, as sent. */
  host: string | undefined;
  /** The listener trusts the client's X-Forwarded-*: append to -For, keep -Proto/-Host. Default false. */
  trust?: boolean;
  /** An absolute-form target's authority: sent as Host instead of the client's (RFC 9112 §3.2.2). */
  replaceHost?: string;
}

/**
 * Request headers for the backend: hop-by-hop dropped, X-Forwarded-For set to
 * the client address (appended to when the listener trusts forwarded
 * headers), X-Forwarded-Proto/Host set by us unless trusted and present.
 * `upgrade`, for WebSocket passthrough, is the Upgrade value to send (the
 * client's minus h2c) with `Connection: upgrade`; the client's own
 * Connection and Upgrade are dropped either way.
 */
export function upstreamRequestHeaders(
  raw: readonly string[],
  fwd: ForwardedFor,
  upgrade?: string,
): string[] {
  const extra = connectionTokens(raw);
  const out: string[] = [];
  if (fwd.replaceHost !== undefined) out.push("Host", fwd.replaceHost);
  let xff: string | undefined;
  let keptProto = false;
  let keptHost = false;
  const trust = fwd.trust === true;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (lower === "x-forwarded-for") {
      if (trust) xff = xff === undefined ? value : `${xff}, ${value}`;
      continue;
    }
    if (lower === "x-forwarded-proto" || lower === "x-forwarded-host") {
      if (!trust) continue;
      if (lower === "x-forwarded-proto") keptProto = true;
      else keptHost = true;
      out.push(name, value);
      continue;
    }
    if (lower === "host" && fwd.replaceHost !== undefined) continue;
    if (HOP_BY_HOP.has(lower) || extra?.has(lower)) continue;
    out.push(name, value);
  }
  out.push("X-Forwarded-For", xff === undefined ? fwd.clientIp : `${xff}, ${fwd.clientIp}`);
  if (!keptProto) out.push("X-Forwarded-Proto", fwd.proto);
  if (fwd.host !== undefined && !keptHost) out.push("X-Forwarded-Host", fwd.host);
  if (upgrade !== undefined) out.push("Connection", "upgrade", "Upgrade", upgrade);
  return out;
}

/** Response headers for the client: hop-by-hop dropped; Node re-frames the body itself. */
export function downstreamResponseHeaders(raw: readonly string[]): string[] {
  const extra = connectionTokens(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(lower) || extra?.has(lower)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/** "::ffff:127.0.0.1" → "127.0.0.1", so X-Forwarded-For reads like nginx's. */
export const clientIpOf = (addr: string | undefined): string =>
  addr?.startsWith("::ffff:") ? addr.slice(7) : (addr ?? "unknown");
