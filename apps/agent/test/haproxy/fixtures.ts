import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { type Snapshot, type SnapshotInput, snapshotSchema } from "@fulcrum/protocol";

/** The haproxy the tests run: FULCRUM_HAPROXY_BIN, else Debian's /usr/sbin/haproxy, else PATH. */
export const BIN =
  process.env.FULCRUM_HAPROXY_BIN ?? (existsSync("/usr/sbin/haproxy") ? "/usr/sbin/haproxy" : "haproxy");

type PoolInput = SnapshotInput["pools"][number];
type ListenerInput = SnapshotInput["listeners"][number];
type BackendInput = PoolInput["backends"][number];

/** Pool settings the HAProxy engine accepts (the builtin defaults enable outlier detection and a retry budget). */
export const HAPROXY_POOL = {
  outlierDetection: { enabled: false },
  retries: { enabled: true, attempts: 1, budgetPercent: 100 },
} as const;

export const be = (id: string, port: number, over: Partial<BackendInput> = {}): BackendInput => ({
  id,
  name: id,
  address: "127.0.0.1",
  port,
  weight: 1,
  state: "enabled",
  backup: false,
  ...over,
});

export function pool(id: string, backends: BackendInput[], over: Partial<PoolInput> = {}): PoolInput {
  return {
    id,
    name: id,
    policy: "round_robin",
    policyOptions: {},
    healthCheck: {},
    persistence: {},
    ...HAPROXY_POOL,
    backends,
    ...over,
  };
}

export function http(
  id: string,
  port: number,
  poolId: string,
  over: Partial<ListenerInput> = {},
): ListenerInput {
  return {
    id,
    name: id,
    protocol: "http",
    bindAddress: "127.0.0.1",
    port,
    routes: [{ id: `${id}-r`, host: "", pathPrefix: "/", priority: 0, poolId }],
    ...over,
  } as ListenerInput;
}

/** A schema-valid snapshot with a deterministic hash and time (golden files compare text). */
export function snap(version: number, listeners: ListenerInput[], pools: PoolInput[]): Snapshot {
  const hash = createHash("sha256").update(JSON.stringify({ version, listeners, pools })).digest("hex");
  return snapshotSchema.parse({
    version,
    hash,
    clusterId: "c1",
    createdAt: "2026-01-01T00:00:00.000Z",
    listeners,
    pools,
  });
}
