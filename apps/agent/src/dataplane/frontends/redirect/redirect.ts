import { STATUS_CODES } from "node:http";
import type { RequestFacts } from "../../exchange";
import type { LocalReason } from "../../http/local-reply";
import { countPick, pickBackends } from "../../pools/backend-pick";
import type { CompiledRoute } from "../../pools/route-table";

export type RedirectDecision =
  | {
      readonly kind: "redirect";
      readonly status: 302 | 307;
      readonly location: string;
      /** Sticky-session cookie when the pool persists by cookie. */
      readonly setCookie: string | undefined;
    }
  /** Answered like the proxy's own replies: text body, no-store, x-fulcrum-reason. */
  | { readonly kind: "local"; readonly status: number; readonly reason: LocalReason; readonly text: string };

/**
 * A `redirect` route's answer: the pool's policy chooses among the backends
 * that may serve (health, drain, weights, persistence apply as for proxying)
 * and the client is sent to that backend's publicBaseUrl + the original path
 * and query, with the loop guard added. A request that already carries the
 * guard was sent around once and came back (a publicBaseUrl pointing at the
 * balancer, or a mirror sending clients back): it gets 508 instead of a
 * second redirect, so clients never chase an endless chain.
 * `target` is the request target as received (path and query).
 */
export function decideRedirect(route: CompiledRoute, target: string, facts: RequestFacts): RedirectDecision {
  const r = route.redirect!;
  if (hasQueryParam(target, r.loopGuard)) {
    return {
      kind: "local",
      status: 508,
      reason: "redirect-loop",
      text: "this request was already redirected once",
    };
  }
  const pool = route.pool;
  const b = pickBackends(pool, facts, 1)[0];
  const base = b === undefined ? undefined : r.baseUrls.get(b.id);
  if (b === undefined || base === undefined) {
    pool.counters.noBackend++;
    return { kind: "local", status: 503, reason: "no-backend", text: "no backend available" };
  }
  countPick(b, r.status);
  const setCookie = pool.stickyCookie(b, facts);
  const sep = target.includes("?") ? "&" : "?";
  return {
    kind: "redirect",
    status: r.status,
    location: `${base}${target}${sep}${r.loopGuard}=1`,
    setCookie,
  };
}

/** Whether the query string of `target` has a parameter named `name` (any value). */
export function hasQueryParam(target: string, name: string): boolean {
  const q = target.indexOf("?");
  if (q === -1) return false;
  for (const part of target.slice(q + 1).split("&")) {
    const eq = part.indexOf("=");
    if ((eq === -1 ? part : part.slice(0, eq)) === name) return true;
  }
  return false;
}

/** The redirect as header pairs (node:http path). */
export function redirectHeaders(d: Extract<RedirectDecision, { kind: "redirect" }>): Record<string, string> {
  const h: Record<string, string> = {
    location: d.location,
    "cache-control": "no-store",
    "content-length": "0",
  };
  if (d.setCookie) h["set-cookie"] = d.setCookie;
  return h;
}

/** The redirect as a serialized HTTP/1.1 response (h1 path). */
export function redirectResponse(d: Extract<RedirectDecision, { kind: "redirect" }>, close: boolean): Buffer {
  let head = `HTTP/1.1 ${d.status} ${STATUS_CODES[d.status]}\r\n`;
  for (const [k, v] of Object.entries(redirectHeaders(d))) head += `${k}: ${v}\r\n`;
  if (close) head += "connection: close\r\n";
  return Buffer.from(`${head}\r\n`, "latin1");
}
