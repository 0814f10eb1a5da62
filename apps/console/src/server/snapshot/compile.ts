import { createHash } from "node:crypto";
import {
  healthCheckSchema,
  listenerSettingsSchema,
  outlierDetectionSchema,
  persistenceSchema,
  policySchema,
  poolLimitsSchema,
  retriesSchema,
  type Snapshot,
  type SnapshotListener,
  type SnapshotPool,
} from "@fulcrum/protocol";

/** The rows a cluster's topology is made of, as read from the database. */
export interface TopologyRows {
  listeners: Array<{
    id: string;
    name: string;
    protocol: "http" | "tcp";
    bindAddress: string;
    port: number;
    settings?: unknown;
    routes: Array<{ id: string; host: string; pathPrefix: string; priority: number; poolId: string }>;
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
    backends: Array<{
      id: string;
      name: string;
      address: string;
      port: number;
      weight: number;
      state: "enabled" | "draining" | "disabled";
      backup: boolean;
      maxConnections?: number | null;
    }>;
  }>;
}

export type SnapshotBody = Pick<Snapshot, "listeners" | "pools">;

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
 * agent always receives complete, defaulted settings.
 */
export function compileSnapshotBody(rows: TopologyRows): SnapshotBody {
  const listeners: SnapshotListener[] = rows.listeners
    .map((l) => ({
      id: l.id,
      name: l.name,
      protocol: l.protocol,
      bindAddress: l.bindAddress,
      port: l.port,
      settings: listenerSettingsSchema.parse(l.settings ?? {}),
      routes: l.routes
        .map((r) => ({
          id: r.id,
          host: r.host,
          pathPrefix: r.pathPrefix,
          priority: r.priority,
          poolId: r.poolId,
        }))
        .sort(
          (a, b) =>
            b.priority - a.priority ||
            b.pathPrefix.length - a.pathPrefix.length ||
            byKey((r: { host: string; id: string }) => `${r.host}\u0000${r.id}`)(a, b),
        ),
    }))
    .sort(byKey((l) => `${l.bindAddress}:${String(l.port).padStart(5, "0")}`));

  const pools: SnapshotPool[] = rows.pools
    .map((p) => ({
      id: p.id,
      name: p.name,
      policy: policySchema.parse(p.policy),
      policyOptions: isRecord(p.policyOptions) ? p.policyOptions : {},
      healthCheck: healthCheckSchema.parse(p.healthCheck ?? {}),
      persistence: persistenceSchema.parse(p.persistence ?? {}),
      slowStartMs: p.slowStartMs ?? 0,
      outlierDetection: outlierDetectionSchema.parse(p.outlierDetection ?? {}),
      retries: retriesSchema.parse(p.retries ?? {}),
      limits: poolLimitsSchema.parse(p.limits ?? {}),
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
        }))
        .sort(byKey((b) => `${b.address}:${String(b.port).padStart(5, "0")}`)),
    }))
    .sort(byKey((p) => p.name));

  return { listeners, pools };
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
