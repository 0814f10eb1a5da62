import {
  backendTlsFeaturesUsed,
  consistentHashOptionsSchema,
  http2FeaturesUsed,
  listenerSettingsSchema,
  type Snapshot,
  type SnapshotProxyListener,
  tlsFeaturesUsed,
  unsupportedReason,
  upstreamFeaturesUsed,
} from "@fulcrum/protocol";
import { HAPROXY_BALANCE } from "./balance";
import { EngineUnsupportedError } from "./errors";
import { findH2Unsupported } from "./http2";

export interface Unsupported {
  /** Feature key of packages/protocol engine-support.ts. */
  key: string;
  /** Which listener, route or pool uses it. */
  where: string;
  reason: string;
}

/** The schema's default: tolerated (not enforced) so a default listener runs on HAProxy; any other rate is refused. */
const DEFAULT_MIN_BODY_RATE = listenerSettingsSchema.parse({}).minBodyBytesPerSecond;

/** The http and tcp listeners (dns ones are refused by findUnsupported). */
export const proxyListeners = (snapshot: Snapshot): SnapshotProxyListener[] =>
  snapshot.listeners.filter((l): l is SnapshotProxyListener => l.protocol !== "dns");

/** Pool id → the http/tcp listeners that route to it. */
export function listenersByPool(snapshot: Snapshot): Map<string, SnapshotProxyListener[]> {
  const out = new Map<string, SnapshotProxyListener[]>();
  for (const l of proxyListeners(snapshot)) {
    for (const r of l.routes) {
      const list = out.get(r.poolId) ?? [];
      if (!list.includes(l)) list.push(l);
      out.set(r.poolId, list);
    }
  }
  return out;
}

/**
 * Everything in the snapshot the HAProxy engine cannot express exactly, by
 * the capability table in @fulcrum/protocol (engine-support.ts).
 */
export function findUnsupported(snapshot: Snapshot): Unsupported[] {
  const found: Unsupported[] = [];
  const use = (key: string, where: string) => {
    const reason = unsupportedReason("haproxy", key) ?? `${key} is not supported by the HAProxy engine.`;
    found.push({ key, where, reason });
  };

  const headerLimits = new Set<number>();
  if (snapshot.acmeChallenges.length > 0) use("acme:http01", "the snapshot's acmeChallenges");
  for (const l of snapshot.listeners) {
    for (const r of l.routes) {
      if (r.action === "redirect") use("route:redirect", `route ${r.id} of listener ${l.name}`);
    }
    if (l.protocol === "dns") {
      use("listener:dns", `listener ${l.name}`);
      continue;
    }
    for (const key of [...tlsFeaturesUsed(l), ...http2FeaturesUsed(l)]) {
      if (unsupportedReason("haproxy", key) !== undefined) use(key, `listener ${l.name}`);
    }
    if (l.protocol === "http") {
      const s = l.settings;
      if (s.maxBodyBytes > 0) use("listener:max_body_bytes", `listener ${l.name}`);
      if (s.timeouts.bodyMs < s.timeouts.idleMs)
        use("listener:body_timeout_below_idle", `listener ${l.name}`);
      if (s.minBodyBytesPerSecond !== 0 && s.minBodyBytesPerSecond !== DEFAULT_MIN_BODY_RATE) {
        use("listener:min_body_rate", `listener ${l.name}`);
      }
      headerLimits.add(l.settings.maxHeaderBytes);
      if (l.settings.timeouts.responseMs !== l.settings.timeouts.idleMs) {
        use("listener:response_timeout_differs", `listener ${l.name}`);
      }
    }
  }
  if (headerLimits.size > 1) use("listener:per_listener_header_limit", "HTTP listeners");
  findH2Unsupported(snapshot, use);

  const byPool = listenersByPool(snapshot);
  for (const p of snapshot.pools) {
    const where = `pool ${p.name}`;
    const behindTcp = (byPool.get(p.id) ?? []).some((l) => l.protocol === "tcp");
    for (const key of [...backendTlsFeaturesUsed(p, behindTcp), ...upstreamFeaturesUsed(p)]) {
      if (unsupportedReason("haproxy", key) !== undefined) use(key, where);
    }
    const balance = HAPROXY_BALANCE[p.policy];
    if (!balance) use(`policy:${p.policy}`, where);
    if (p.policy === "consistent_hash") {
      const o = consistentHashOptionsSchema.safeParse(p.policyOptions ?? {});
      if (o.success && o.data.algorithm === "maglev") use("consistent_hash:maglev", where);
    }
    if (p.slowStartMs > 0 && balance?.static) use("pool:slow_start_static", where);
    if (p.outlierDetection.enabled) use("pool:outlier_detection", where);
    const r = p.retries;
    if (r.enabled && r.attempts > 0 && r.budgetPercent < 100) use("pool:retry_budget", where);
    const limited =
      p.limits.maxConnectionsPerBackend > 0 || p.backends.some((b) => b.maxConnections !== null);
    if (limited && p.limits.queueSize === 0) use("pool:queue_size_zero", where);

    const ls = byPool.get(p.id) ?? [];
    if (new Set(ls.map((l) => l.protocol)).size > 1) use("pool:mixed_protocols", where);
    const timeouts = new Set(
      ls.map((l) => {
        const t = l.settings.timeouts;
        return `${t.connectMs}/${l.protocol === "tcp" ? t.idleMs : t.responseMs}`;
      }),
    );
    if (timeouts.size > 1) use("pool:per_listener_timeouts", where);
  }
  return found;
}

/** Throws EngineUnsupportedError naming every unsupported use; the message becomes the NACK reason. */
export function assertSupported(snapshot: Snapshot): void {
  const found = findUnsupported(snapshot);
  if (found.length === 0) return;
  const lines = found.map((f) => `${f.where}: ${f.key}: ${f.reason}`);
  const message = `the HAProxy engine cannot run this snapshot: ${lines.join("; ")}`;
  // NACK reasons are capped at 4000 characters by the protocol.
  throw new EngineUnsupportedError(message.length > 3800 ? `${message.slice(0, 3797)}...` : message);
}
