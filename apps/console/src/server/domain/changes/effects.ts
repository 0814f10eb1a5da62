import {
  type BackendView,
  createPolicy,
  eligible,
  murmur3,
  type Policy,
  weightedEligible,
  weightOf,
} from "@fulcrum/balancer";
import { POLICY_FACTS, type SnapshotBackend, type SnapshotPool } from "@fulcrum/protocol";
import type { SnapshotBody } from "../../snapshot/compile";
import type { BackendEffect, PoolEffect } from "./types";

/** Synthetic keys mapped through a hashing pool's policy to measure shares and moved keys. */
export const HASH_SAMPLE_KEYS = 10_000;

/** What the console knows live about one backend (see metrics/store.ts). */
export interface BackendLive {
  /** up, down, ejected, draining, disabled or unknown. */
  status: string;
  rps: number;
  activeConnections: number;
  stickySessions: number;
}

export interface LiveView {
  /** `rps` is the backend's rate in that pool; status and gauges are the backend's own. */
  backend(poolId: string, id: string): BackendLive;
  poolRps(poolId: string): number;
}

/** A snapshot backend as the policies see it, with the console's view of its health. */
function viewOf(b: SnapshotBackend, live: BackendLive): BackendView {
  return {
    id: b.id,
    weight: b.weight,
    state: b.state,
    backup: b.backup,
    healthy: live.status !== "down",
    ejected: live.status === "ejected",
    inFlight: 0,
  };
}

/** Where each synthetic key lands; the key shape matches what the pool hashes on. */
function hashAssignments(pool: SnapshotPool, views: readonly BackendView[]): string[] {
  // A fixed seed: the same topology always gives the same estimate.
  let seed = 1;
  const rng = () => {
    seed = murmur3(String(seed), 7);
    return (seed >>> 0) / 4294967296;
  };
  const policy: Policy = createPolicy(pool.policy, { rng, options: pool.policyOptions });
  const out: string[] = new Array(HASH_SAMPLE_KEYS);
  for (let i = 0; i < HASH_SAMPLE_KEYS; i++) {
    const key =
      pool.policy === "source_ip_hash" ? `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` : `key-${i}`;
    out[i] = policy.pick({ backends: views, key })?.id ?? "";
  }
  return out;
}

interface Distribution {
  shares: Map<string, number>;
  /** For hashing pools: the backend id each synthetic key maps to ("" = none). */
  keys: string[] | null;
}

/**
 * Expected share of a pool's new requests per backend, by the policy's facts
 * (@fulcrum/protocol policies.ts). Hashing pools are measured with the policy
 * itself over synthetic keys; first_available gives everything to the first
 * eligible backend (an approximation: it spills over to the next one only
 * when connection caps are reached); the other unweighted ones (round_robin,
 * random) split equally among eligible backends; the weighted ones
 * (weighted_*, least_*, power_of_two) split by weight, which is what they
 * converge to when backends answer alike.
 */
export function distribution(pool: SnapshotPool, views: readonly BackendView[]): Distribution {
  const shares = new Map<string, number>();
  const facts = POLICY_FACTS[pool.policy];
  if (facts.hashing) {
    const keys = hashAssignments(pool, views);
    for (const id of keys) if (id) shares.set(id, (shares.get(id) ?? 0) + 1 / keys.length);
    return { shares, keys };
  }
  if (pool.policy === "first_available") {
    const first = eligible(views)[0];
    if (first) shares.set(first.id, 1);
    return { shares, keys: null };
  }
  if (!facts.weighted) {
    const candidates = eligible(views);
    for (const b of candidates) shares.set(b.id, 1 / candidates.length);
    return { shares, keys: null };
  }
  const candidates = weightedEligible(views);
  const total = candidates.reduce((sum, b) => sum + weightOf(b), 0);
  for (const b of candidates) shares.set(b.id, weightOf(b) / total);
  return { shares, keys: null };
}

/** What decides where a pool's traffic goes; pools whose signature is unchanged are left out. */
const trafficSignature = (p: SnapshotPool) =>
  JSON.stringify([
    p.policy,
    p.policyOptions,
    p.persistence,
    p.backends.map((b) => [b.id, b.address, b.port, b.weight, b.state, b.backup]),
  ]);

const round = (n: number, digits = 4) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The traffic effect of going from `before` to `after`, pool by pool. */
export function poolEffects(before: SnapshotBody, after: SnapshotBody, live: LiveView): PoolEffect[] {
  const beforePools = new Map(before.pools.map((p) => [p.id, p]));
  const afterPools = new Map(after.pools.map((p) => [p.id, p]));
  const ids = [...new Set([...beforePools.keys(), ...afterPools.keys()])];
  const out: PoolEffect[] = [];
  for (const id of ids) {
    const old = beforePools.get(id);
    const now = afterPools.get(id);
    if (old && now && trafficSignature(old) === trafficSignature(now)) continue;
    const routes = (now ? after : before).listeners.reduce(
      (n, l) => n + l.routes.filter((r) => r.poolId === id).length,
      0,
    );
    out.push(poolEffect(old, now, live, routes));
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

function poolEffect(
  old: SnapshotPool | undefined,
  now: SnapshotPool | undefined,
  live: LiveView,
  routes: number,
): PoolEffect {
  const pool = (now ?? old)!;
  const oldBackends = old?.backends ?? [];
  const newBackends = now?.backends ?? [];
  const liveOf = new Map([...oldBackends, ...newBackends].map((b) => [b.id, live.backend(pool.id, b.id)]));
  const oldViews = oldBackends.map((b) => viewOf(b, liveOf.get(b.id)!));
  const newViews = newBackends.map((b) => viewOf(b, liveOf.get(b.id)!));
  const distBefore = old ? distribution(old, oldViews) : { shares: new Map<string, number>(), keys: null };
  const distAfter = now ? distribution(now, newViews) : { shares: new Map<string, number>(), keys: null };
  const rpsNow = live.poolRps(pool.id);
  // Without a route nothing reaches the pool, whatever it received before.
  const rpsExpected = now && routes > 0 ? rpsNow : 0;

  const eligibleAfter = new Set(eligible(newViews).map((b) => b.id));
  const newById = new Map(newBackends.map((b) => [b.id, b]));
  // Sessions survive only where the same kind of persistence goes on.
  const persistenceKept =
    old !== undefined && now !== undefined && old.persistence.type === now.persistence.type;
  let stickySessionsRepinned = 0;
  let connectionsToDrain = 0;
  for (const b of oldBackends) {
    const l = liveOf.get(b.id)!;
    const stays = newById.get(b.id);
    if (old!.persistence.type !== "none" && (!persistenceKept || !eligibleAfter.has(b.id))) {
      stickySessionsRepinned += l.stickySessions;
    }
    // Connections of a backend already draining are draining anyway.
    const leavesService = !stays || (b.state === "enabled" && stays.state !== "enabled");
    if (leavesService && b.state !== "disabled") connectionsToDrain += l.activeConnections;
  }

  const oldIds = new Set(oldBackends.map((b) => b.id));
  const backends: BackendEffect[] = [];
  for (const b of [...oldBackends, ...newBackends.filter((n) => !oldIds.has(n.id))]) {
    const l = liveOf.get(b.id)!;
    const shareAfter = distAfter.shares.get(b.id) ?? 0;
    backends.push({
      id: b.id,
      name: b.name,
      address: b.address,
      port: b.port,
      membership: !oldIds.has(b.id) ? "joins" : newById.has(b.id) ? "stays" : "leaves",
      shareBefore: round(distBefore.shares.get(b.id) ?? 0),
      shareAfter: round(shareAfter),
      rpsNow: round(l.rps, 2),
      rpsAfter: round(shareAfter * rpsExpected, 2),
      activeConnections: l.activeConnections,
      stickySessions: l.stickySessions,
      status: l.status,
    });
  }

  let hashKeysMovedShare: number | null = null;
  if (distBefore.keys && distAfter.keys) {
    let moved = 0;
    for (let i = 0; i < distAfter.keys.length; i++) if (distBefore.keys[i] !== distAfter.keys[i]) moved++;
    hashKeysMovedShare = round(moved / distAfter.keys.length);
  }

  return {
    poolId: pool.id,
    name: pool.name,
    policy: pool.policy,
    change: !old ? "added" : !now ? "removed" : "changed",
    rpsNow: round(rpsNow, 2),
    routes,
    backends,
    hashKeysMovedShare,
    stickySessionsRepinned,
    connectionsToDrain,
    slowStartMs: pool.slowStartMs,
  };
}
