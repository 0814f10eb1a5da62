import type {
  SnapshotBackend,
  SnapshotCertificate,
  SnapshotListener,
  SnapshotPool,
  SnapshotRoute,
} from "@fulcrum/protocol";
import type { SnapshotBody } from "./compile";

/** One line of a readable diff between two snapshots. */
export interface SnapshotChange {
  change: "added" | "removed" | "changed";
  /** What changed, in words: `pool app`, `backend 10.0.0.1:80 in pool app`, … */
  object: string;
  /** Dotted path of the changed setting, for "changed" lines. */
  field?: string;
  before?: unknown;
  after?: unknown;
}

type Flat = Record<string, unknown>;

/** {a: {b: 1}} → {"a.b": 1}; arrays and scalars are leaves. */
function flatten(value: unknown, prefix = "", out: Flat = {}): Flat {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out[prefix] = value;
  }
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function fieldChanges(object: string, before: Flat, after: Flat): SnapshotChange[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys
    .filter((k) => !same(before[k], after[k]))
    .map((field) => ({
      change: "changed" as const,
      object,
      field,
      before: before[field],
      after: after[field],
    }));
}

function byId<T extends { id: string }>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((i) => [i.id, i]));
}

/** Compares keyed collections: added, removed, and per-field changes of the rest. */
function diffCollection<T extends { id: string }>(
  before: readonly T[],
  after: readonly T[],
  label: (item: T) => string,
  fields: (item: T) => Flat,
): SnapshotChange[] {
  const a = byId(before);
  const b = byId(after);
  const out: SnapshotChange[] = [];
  for (const [id, item] of a) if (!b.has(id)) out.push({ change: "removed", object: label(item) });
  for (const [id, item] of b) {
    const old = a.get(id);
    if (!old) out.push({ change: "added", object: label(item), after: fields(item) });
    else out.push(...fieldChanges(label(item), fields(old), fields(item)));
  }
  return out;
}

const endpoint = (address: string, port: number) =>
  address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;

/** What an operator needs to see to know what a config version changed. */
export function diffSnapshots(before: SnapshotBody, after: SnapshotBody): SnapshotChange[] {
  const poolNames = new Map([...before.pools, ...after.pools].map((p) => [p.id, p.name]));
  const poolName = (id: string) => poolNames.get(id) ?? id;

  const listenerLabel = (l: SnapshotListener) =>
    `listener ${l.name} (${l.protocol} ${endpoint(l.bindAddress, l.port)})`;
  const listenerFields = ({ id: _id, routes: _r, ...rest }: SnapshotListener) => flatten(rest);
  const changes = diffCollection(before.listeners, after.listeners, listenerLabel, listenerFields);

  const routesOf = (body: SnapshotBody) =>
    body.listeners.flatMap((l) => l.routes.map((r) => ({ ...r, listener: l.name })));
  const routeLabel = (r: SnapshotRoute & { listener: string }) =>
    `route ${r.host || "any host"} ${r.pathPrefix} on listener ${r.listener}`;
  const routeFields = ({ id: _id, listener: _l, poolId, ...rest }: SnapshotRoute & { listener: string }) => ({
    ...flatten(rest),
    pool: poolName(poolId),
  });
  changes.push(...diffCollection(routesOf(before), routesOf(after), routeLabel, routeFields));

  const poolLabel = (p: SnapshotPool) => `pool ${p.name}`;
  const poolFields = ({ id: _id, backends: _b, ...rest }: SnapshotPool) => flatten(rest);
  changes.push(...diffCollection(before.pools, after.pools, poolLabel, poolFields));

  const backendsOf = (body: SnapshotBody) =>
    body.pools.flatMap((p) => p.backends.map((b) => ({ ...b, pool: p.name })));
  const backendLabel = (b: SnapshotBackend & { pool: string }) =>
    `backend ${b.name ? `${b.name} ` : ""}${endpoint(b.address, b.port)} in pool ${b.pool}`;
  const backendFields = ({ id: _id, pool, ...rest }: SnapshotBackend & { pool: string }) => ({
    ...flatten(rest),
    pool,
  });
  changes.push(...diffCollection(backendsOf(before), backendsOf(after), backendLabel, backendFields));

  // Certificates by fingerprint, names and expiry: a snapshot holds no key material to show.
  const certificateLabel = (c: SnapshotCertificate) => `certificate ${c.names[0] ?? c.id} (${c.id})`;
  const certificateFields = ({ id: _id, ...rest }: SnapshotCertificate) => flatten(rest);
  changes.push(
    ...diffCollection(
      before.certificates ?? [],
      after.certificates ?? [],
      certificateLabel,
      certificateFields,
    ),
  );
  return changes;
}
