import { createHash } from "node:crypto";
import {
  type AcmeChallenge,
  backendTlsSchema,
  dnsListenerSettingsSchema,
  healthCheckSchema,
  listenerHttp2Schema,
  listenerSettingsSchema,
  listenerTlsSchema,
  outlierDetectionSchema,
  persistenceSchema,
  policySchema,
  poolLimitsSchema,
  poolUpstreamSchema,
  redirectOptionsSchema,
  retriesSchema,
  type Snapshot,
  type SnapshotCaBundle,
  type SnapshotCertificate,
  type SnapshotListener,
  type SnapshotPool,
  type SnapshotRoute,
} from "@fulcrum/protocol";
import type { z } from "zod";
import { InvalidInputError } from "../errors";
import { assertPublishable } from "./publishable";

/** The rows a cluster's topology is made of, as read from the database. */
export interface TopologyRows {
  listeners: Array<{
    id: string;
    name: string;
    protocol: "http" | "tcp" | "dns";
    bindAddress: string;
    port: number;
    settings?: unknown;
    /** http only: listenerTlsSchema as stored; null: plain HTTP. */
    tls?: unknown;
    /** http only: listenerHttp2Schema as stored; null: HTTP/1.1 only. */
    http2?: unknown;
    routes: Array<{
      id: string;
      host: string;
      pathPrefix: string;
      priority: number;
      poolId: string;
      action?: "proxy" | "redirect";
      redirect?: unknown;
    }>;
  }>;
  pools: Array<{
    id: string;
    name: string;
    policy: string;
    policyOptions: unknown;
    healthCheck: unknown;
    persistence: unknown;
    slowStartMs?: number;
    outlierDetection?: unknown;
    retries?: unknown;
    limits?: unknown;
    /** backendTlsSchema as stored; null: plain TCP. */
    tls?: unknown;
    /** poolUpstreamSchema as stored; null: HTTP/1.1. */
    upstream?: unknown;
    backends: Array<{
      id: string;
      name: string;
      address: string;
      port: number;
      weight: number;
      state: "enabled" | "draining" | "disabled";
      backup: boolean;
      maxConnections?: number | null;
      publicBaseUrl?: string | null;
    }>;
  }>;
  /** The cluster's certificates (public facts only); the snapshot lists those its listeners use. */
  certificates?: Array<{ id: string; fingerprint: string; names: string[]; notAfter: Date }>;
  /** ACME HTTP-01 tokens being validated now (domain/acme); every agent serves them. */
  acmeChallenges?: Array<{ token: string; keyAuthorization: string; host: string | null }>;
  /** The cluster's CA bundles (id and fingerprint); the snapshot lists those its pools verify against. */
  caBundles?: Array<{ id: string; fingerprint: string }>;
}

/**
 * `certificates` is left out when no listener uses TLS, so topologies without
 * TLS hash exactly as they did before issue 16.
 */
export type SnapshotBody = Pick<Snapshot, "listeners" | "pools"> & {
  certificates?: SnapshotCertificate[];
  /** Left out when empty, like certificates, so topologies without ACME hash as before. */
  acmeChallenges?: AcmeChallenge[];
  /** CA bundles pools verify backends against; left out when empty, so topologies without them hash as before. */
  caBundles?: SnapshotCaBundle[];
};

const byKey =
  <T>(key: (t: T) => string) =>
  (a: T, b: T) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };

/**
 * Pure: topology rows in, snapshot body out, in a canonical order so equal
 * topologies always hash equal. Stored JSON settings are re-parsed so the
 * agent always receives complete, defaulted settings. The body must pass the
 * protocol's snapshotSchema (publishable.ts): a row stored before a grammar
 * was tightened fails here with a SnapshotInvalidError naming it, never a raw
 * zod error, so the change is refused and nothing agents would NACK is published.
 */
export function compileSnapshotBody(rows: TopologyRows): SnapshotBody {
  const body = compileSnapshotBodyAsStored(rows);
  assertRedirectTargets(body.listeners, body.pools);
  assertPublishable(body);
  return body;
}

/**
 * The topology as it is stored, unchecked: values the protocol no longer
 * accepts are passed through as stored. Only for describing the current state
 * (a dry run's "before"), so the change that fixes a bad row can be previewed.
 */
export function compileSnapshotBodyAsStored(rows: TopologyRows): SnapshotBody {
  const listeners: SnapshotListener[] = rows.listeners
    .map((l): SnapshotListener => {
      const routes = l.routes
        .map((r) => compileRoute(r, l.protocol))
        .sort(
          (a, b) =>
            b.priority - a.priority ||
            b.pathPrefix.length - a.pathPrefix.length ||
            byKey((r: { host: string; id: string }) => `${r.host}\u0000${r.id}`)(a, b),
        );
      const { id, name, bindAddress, port } = l;
      // Stored settings are shaped by the protocol; keys of another protocol are dropped.
      return l.protocol === "dns"
        ? {
            id,
            name,
            protocol: "dns",
            bindAddress,
            port,
            settings: parsedOrStored(dnsListenerSettingsSchema, l.settings ?? {}),
            routes,
          }
        : {
            id,
            name,
            protocol: l.protocol,
            bindAddress,
            port,
            settings: parsedOrStored(listenerSettingsSchema, l.settings ?? {}),
            routes,
            // Left out (not null) when plain, so plain listeners hash as before.
            ...(l.protocol === "http" && l.tls ? { tls: parsedOrStored(listenerTlsSchema, l.tls) } : {}),
            // Left out when off, so HTTP/1.1-only listeners hash as before issue 18. A tcp
            // listener's stored http2 is kept, so the publish gate names it instead of dropping it.
            ...(l.http2 ? { http2: parsedOrStored(listenerHttp2Schema, l.http2) } : {}),
          };
    })
    .sort(byKey((l) => `${l.bindAddress}:${String(l.port).padStart(5, "0")}`));

  const pools: SnapshotPool[] = rows.pools
    .map((p) => ({
      id: p.id,
      name: p.name,
      policy: parsedOrStored(policySchema, p.policy),
      policyOptions: isRecord(p.policyOptions) ? p.policyOptions : {},
      healthCheck: parsedOrStored(healthCheckSchema, p.healthCheck ?? {}),
      persistence: parsedOrStored(persistenceSchema, p.persistence ?? {}),
      slowStartMs: p.slowStartMs ?? 0,
      outlierDetection: parsedOrStored(outlierDetectionSchema, p.outlierDetection ?? {}),
      retries: parsedOrStored(retriesSchema, p.retries ?? {}),
      limits: parsedOrStored(poolLimitsSchema, p.limits ?? {}),
      // Left out (not null) when plain, so pools without TLS hash as before.
      ...(p.tls ? { tls: parsedOrStored(backendTlsSchema, p.tls) } : {}),
      // Left out when HTTP/1.1 (unset), so such pools hash as before issue 18.
      ...(p.upstream ? { upstream: parsedOrStored(poolUpstreamSchema, p.upstream) } : {}),
      backends: p.backends
        .map((b) => ({
          id: b.id,
          name: b.name,
          address: b.address,
          port: b.port,
          weight: b.weight,
          state: b.state,
          backup: b.backup,
          maxConnections: b.maxConnections ?? null,
          publicBaseUrl: b.publicBaseUrl ?? null,
        }))
        .sort(byKey((b) => `${b.address}:${String(b.port).padStart(5, "0")}`)),
    }))
    .sort(byKey((p) => p.name));

  const certificates = usedCertificates(listeners, pools, rows.certificates ?? []);
  const caBundles = usedCaBundles(pools, rows.caBundles ?? []);
  const acmeChallenges = (rows.acmeChallenges ?? [])
    .map((c) => ({
      token: c.token,
      keyAuthorization: c.keyAuthorization,
      ...(c.host === null ? {} : { host: c.host }),
    }))
    .sort(byKey((c) => c.token));
  return {
    listeners,
    pools,
    ...(certificates.length > 0 ? { certificates } : {}),
    ...(acmeChallenges.length > 0 ? { acmeChallenges } : {}),
    ...(caBundles.length > 0 ? { caBundles } : {}),
  };
}

/** The CA bundles pools verify against, by id and fingerprint, in id order (a name without a row stays out: the gate refuses). */
function usedCaBundles(
  pools: readonly SnapshotPool[],
  rows: NonNullable<TopologyRows["caBundles"]>,
): SnapshotCaBundle[] {
  const used = new Set(pools.flatMap((p) => (p.tls?.caBundleId ? [p.tls.caBundleId] : [])));
  return rows
    .filter((b) => used.has(b.id))
    .map((b) => ({ id: b.id, fingerprint: b.fingerprint }))
    .sort(byKey((b) => b.id));
}

/**
 * The certificates the listeners serve and the pools present to backends, by
 * reference (no key material), in id order. A name without a row stays out: the snapshot gate then refuses the
 * listener that names it.
 */
function usedCertificates(
  listeners: readonly SnapshotListener[],
  pools: readonly SnapshotPool[],
  rows: NonNullable<TopologyRows["certificates"]>,
): SnapshotCertificate[] {
  const used = new Set<string>();
  for (const l of listeners)
    if (l.protocol === "http") for (const id of l.tls?.certificateIds ?? []) used.add(id);
  for (const p of pools) if (p.tls?.clientCertificateId) used.add(p.tls.clientCertificateId);
  return rows
    .filter((c) => used.has(c.id))
    .map((c) => ({
      id: c.id,
      fingerprint: c.fingerprint,
      names: [...c.names].sort(),
      notAfter: c.notAfter.toISOString(),
    }))
    .sort(byKey((c) => c.id));
}

/**
 * Stored JSON with the protocol's defaults filled in; a value the protocol
 * refuses is kept as stored, for assertPublishable to name (parse would throw
 * a raw zod error without saying which pool or listener holds it).
 */
function parsedOrStored<S extends z.ZodType>(schema: S, stored: unknown): z.output<S> {
  const parsed = schema.safeParse(stored);
  return parsed.success ? parsed.data : (stored as z.output<S>);
}

type RouteRow = TopologyRows["listeners"][number]["routes"][number];

/** Redirect options travel only with redirect routes; DNS names are compared lower-case. */
function compileRoute(r: RouteRow, protocol: TopologyRows["listeners"][number]["protocol"]): SnapshotRoute {
  const route: SnapshotRoute = {
    id: r.id,
    host: protocol === "dns" ? r.host.toLowerCase() : r.host,
    pathPrefix: r.pathPrefix,
    priority: r.priority,
    poolId: r.poolId,
    action: protocol === "http" && r.action === "redirect" ? "redirect" : "proxy",
  };
  if (route.action === "redirect") route.redirect = parsedOrStored(redirectOptionsSchema, r.redirect ?? {});
  return route;
}

/**
 * A redirect sends clients to a backend's publicBaseUrl, so every backend of a
 * pool a redirect route uses needs one. Checked here, where routes and
 * backends meet, so any change that would break it (a new route, a new
 * backend, a cleared URL) is refused with a message saying what to fix.
 */
function assertRedirectTargets(listeners: readonly SnapshotListener[], pools: readonly SnapshotPool[]): void {
  const redirectPools = new Set<string>();
  for (const l of listeners)
    for (const r of l.routes) if (r.action === "redirect") redirectPools.add(r.poolId);
  for (const p of pools) {
    if (!redirectPools.has(p.id)) continue;
    const missing = p.backends.filter((b) => b.publicBaseUrl === null);
    if (missing.length === 0) continue;
    const names = missing.map((b) => b.name || `${b.address}:${b.port}`).join(", ");
    const message = `Pool ${p.name} is used by a redirect route, so every backend needs a public base URL; missing on ${names}.`;
    throw new InvalidInputError(message, { publicBaseUrl: message, poolId: message });
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** JSON with object keys sorted, so the hash does not depend on key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    isRecord(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

export function hashSnapshotBody(body: SnapshotBody): string {
  return createHash("sha256").update(canonicalJson(body)).digest("hex");
}
