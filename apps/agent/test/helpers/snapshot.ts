import { createHash } from "node:crypto";
import { type BackendTls, type Snapshot, type SnapshotInput, snapshotSchema } from "@fulcrum/protocol";
import type { TestCertificate } from "./certs";
import type { TestCa } from "./test-ca";

type SnapshotBackend = SnapshotInput["pools"][number]["backends"][number];
type SnapshotListener = SnapshotInput["listeners"][number];
export type PoolInput = SnapshotInput["pools"][number];

export function backend(id: string, port: number, over: Partial<SnapshotBackend> = {}): SnapshotBackend {
  return { id, name: id, address: "127.0.0.1", port, weight: 1, state: "enabled", backup: false, ...over };
}

export function httpListener(port: number, over: Partial<SnapshotListener> = {}): SnapshotListener {
  return {
    id: `l-${port}`,
    name: `http-${port}`,
    protocol: "http",
    bindAddress: "127.0.0.1",
    port,
    routes: [{ id: `r-${port}`, host: "", pathPrefix: "/", priority: 0, poolId: "p1" }],
    ...over,
  };
}

/** A schema-valid snapshot; the hash is computed so tests exercise real values. `pool` overrides p1's settings. */
export function makeSnapshot(
  version: number,
  listeners: SnapshotListener[],
  backends: SnapshotBackend[],
  policy: Snapshot["pools"][number]["policy"] = "round_robin",
  extraPools: { id: string; backends: SnapshotBackend[] }[] = [],
  pool: Partial<PoolInput> = {},
): Snapshot {
  const pools = [
    {
      id: "p1",
      name: "web",
      policy,
      policyOptions: {},
      healthCheck: {},
      persistence: {},
      backends,
      ...pool,
    },
    ...extraPools.map((p) => ({
      ...p,
      name: p.id,
      policy,
      policyOptions: {},
      healthCheck: {},
      persistence: {},
    })),
  ];
  const hash = createHash("sha256").update(JSON.stringify({ listeners, pools, version })).digest("hex");
  return snapshotSchema.parse({
    version,
    hash,
    clusterId: "c1",
    createdAt: new Date().toISOString(),
    listeners,
    pools,
  });
}

/** `snapshot` with its first listener serving `cert` (listed in the snapshot, the listener's default). */
export function withListenerTls(snapshot: Snapshot, cert: TestCertificate): Snapshot {
  const s = structuredClone(snapshot) as unknown as Record<string, unknown> & {
    listeners: Record<string, unknown>[];
  };
  s.certificates = [cert.ref];
  s.listeners[0]!.tls = { certificateIds: [cert.ref.id], defaultCertificateId: cert.ref.id };
  return snapshotSchema.parse(s);
}

/** `snapshot` with `tls` on its first pool, listing the CA bundle and client certificate that `tls` names. */
export function withPoolTls(
  snapshot: Snapshot,
  tls: Partial<BackendTls>,
  refs: { bundle?: TestCa; cert?: TestCertificate } = {},
): Snapshot {
  const s = structuredClone(snapshot) as unknown as Record<string, unknown> & {
    pools: Record<string, unknown>[];
  };
  s.pools[0]!.tls = { ...tls };
  if (refs.bundle) s.caBundles = [refs.bundle.bundle(String(tls.caBundleId)).ref];
  if (refs.cert) s.certificates = [refs.cert.ref];
  return snapshotSchema.parse(s);
}
