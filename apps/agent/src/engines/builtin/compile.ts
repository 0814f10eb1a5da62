import {
  createPolicy,
  isPolicyImplemented,
  OutlierDetector,
  type Policy,
  parseConsistentHashOptions,
  RetryBudget,
  StickyTable,
} from "@fulcrum/balancer";
import {
  backendTlsFeaturesUsed,
  type CaBundleMaterial,
  http2FeaturesUsed,
  isHostOrIp,
  isOriginForm,
  isPrintableText,
  isToken,
  isUrlText,
  REDIRECT_LOOP_GUARD_DEFAULT,
  type Snapshot,
  type SnapshotPool,
  type SnapshotRoute,
  type TlsMaterial,
  tlsFeaturesUsed,
  unsupportedReason,
  upstreamFeaturesUsed,
} from "@fulcrum/protocol";
import { compileAcmeTokens } from "../../dataplane/frontends/acme/challenge-answer";
import { type ListenerConfig, listenerConfig } from "../../dataplane/frontends/listener-config";
import { compileListenerTls } from "../../dataplane/frontends/tls/listener-tls";
import type { SharedTicketKey } from "../../dataplane/frontends/tls/ticket-keys";
import type { HealthChecker, HealthCheckers } from "../../dataplane/health/health-checker";
import { BackendRuntime, monotonicNow, upstreamKey } from "../../dataplane/pools/backend-runtime";
import type { BackendRegistry } from "../../dataplane/pools/backend-state";
import {
  compileTlsOrigin,
  connKeyOf,
  type TlsOrigin,
  type TlsOrigins,
} from "../../dataplane/pools/backend-tls";
import {
  type KeyOf,
  type PoolEnv,
  PoolRuntime,
  PoolShared,
  STICKY_MAX_ENTRIES,
} from "../../dataplane/pools/pool-runtime";
import { type CompiledRedirect, RouteTable } from "../../dataplane/pools/route-table";
import type { UpstreamAgents } from "../../dataplane/pools/upstream-agents";
import { TrafficCounters } from "../../dataplane/stats/counters";
import { HandshakeCounters } from "../../dataplane/stats/handshake-counters";
import type { DataPlaneTimeouts } from "../../dataplane/timeouts";
import { compileH2Upstream } from "../../dataplane/upstream-h2/compile-upstream";
import type { H2SessionGroup, H2Upstreams } from "../../dataplane/upstream-h2/session-pool";
import { errorMessage, PolicyUnsupportedError, SnapshotInvalidError } from "../../errors";

export interface CompileContext {
  /** Pool state that outlives snapshots, by pool id. */
  readonly pools: ReadonlyMap<string, PoolShared>;
  readonly agents: UpstreamAgents;
  readonly rng: () => number;
  readonly registry: BackendRegistry;
  readonly checkers: HealthCheckers;
  readonly listenerStats: ReadonlyMap<string, TrafficCounters>;
  readonly routeStats: ReadonlyMap<string, TrafficCounters>;
  /** TLS handshake counters by listener id (TLS listeners only). */
  readonly handshakeStats: ReadonlyMap<string, HandshakeCounters>;
  readonly timeouts: DataPlaneTimeouts;
  readonly env: PoolEnv;
  /** Key material sent with the snapshot (snapshot message `tlsMaterial`), by certificate id. */
  readonly tlsMaterial: ReadonlyMap<string, TlsMaterial>;
  /** The cluster's session-ticket key (the engine's holder), given to every TLS listener. */
  readonly ticketKey?: SharedTicketKey;
  /** CA bundles sent with the snapshot (snapshot message `caBundles`), by id. */
  readonly caBundles: ReadonlyMap<string, CaBundleMaterial>;
  /** Pools' TLS to backends, kept across snapshots while the settings hold (sessions survive a reload). */
  readonly tlsOrigins: TlsOrigins;
  /** Data-plane workers of this node (--workers): connection limits are split between them. */
  readonly workerCount?: number;
  /** HTTP/2 sessions to backends of pools with upstream protocol h2/h2c, kept across snapshots. */
  readonly h2: H2Upstreams;
}

export interface CompiledConfig {
  readonly pools: ReadonlyMap<string, PoolRuntime>;
  readonly shared: ReadonlyMap<string, PoolShared>;
  /** Keyed by listener id. */
  readonly tables: ReadonlyMap<string, RouteTable>;
  readonly listeners: ReadonlyMap<string, ListenerConfig>;
  readonly listenerStats: ReadonlyMap<string, TrafficCounters>;
  readonly routeStats: ReadonlyMap<string, TrafficCounters>;
  readonly handshakeStats: ReadonlyMap<string, HandshakeCounters>;
  readonly upstreamKeys: ReadonlySet<string>;
  /** Makes the compiled pools current (policy objects, detectors, sticky tables, checkers). Cannot fail. */
  commit(): void;
  /** The snapshot was not applied: forget checkers prepared for it. */
  abort(): void;
}

/** The capability table (engine-support.ts) decides: a TLS listener is refused, never served as plain HTTP. */
function assertFeaturesSupported(snapshot: Snapshot): void {
  for (const l of snapshot.listeners) {
    if (l.protocol === "dns") continue;
    for (const key of [...tlsFeaturesUsed(l), ...http2FeaturesUsed(l)]) {
      const reason = unsupportedReason("builtin", key);
      if (reason) throw new SnapshotInvalidError(`listener ${l.name}: ${key} is not supported: ${reason}`);
    }
  }
  const behindTcp = new Set(
    snapshot.listeners.flatMap((l) => (l.protocol === "tcp" ? l.routes.map((r) => r.poolId) : [])),
  );
  for (const p of snapshot.pools) {
    for (const key of [...backendTlsFeaturesUsed(p, behindTcp.has(p.id)), ...upstreamFeaturesUsed(p)]) {
      const reason = unsupportedReason("builtin", key);
      if (reason) throw new SnapshotInvalidError(`pool ${p.name}: ${key} is not supported: ${reason}`);
    }
  }
}

const retriesNeeded = (p: SnapshotPool) => p.retries.enabled && p.retries.attempts > 0;

/**
 * Everything that can fail for reasons other than binding fails here, before
 * any socket is touched, and nothing shared is changed until commit(). A pool
 * whose id, policy and options are unchanged keeps its policy object, so
 * round-robin position and WRR scores survive a reload; its outlier detector,
 * sticky table and retry budget survive while their settings are unchanged.
 */
export function compileSnapshot(snapshot: Snapshot, ctx: CompileContext): CompiledConfig {
  const pools = new Map<string, PoolRuntime>();
  const shared = new Map<string, PoolShared>();
  const upstreamKeys = new Set<string>();
  const usedCheckers = new Set<HealthChecker>();
  const commits: (() => void)[] = [];
  const origins = new Set<TlsOrigin>();
  const h2Groups = new Set<H2SessionGroup>();
  const tlsInputs = {
    certificates: new Map(snapshot.certificates.map((c) => [c.id, c])),
    tlsMaterial: ctx.tlsMaterial,
    caBundles: new Map(snapshot.caBundles.map((b) => [b.id, b])),
    caBundleMaterial: ctx.caBundles,
  };
  assertFeaturesSupported(snapshot);
  try {
    for (const p of snapshot.pools) {
      if (pools.has(p.id)) throw new SnapshotInvalidError(`pool id ${p.id} appears twice`);
      if (!isPolicyImplemented(p.policy)) {
        throw new PolicyUnsupportedError(
          `pool ${p.name}: policy ${p.policy} is not supported by this agent yet`,
        );
      }
      assertPoolStrings(p);
      const old = ctx.pools.get(p.id);
      const sh = old ?? new PoolShared(p.id);
      const policyKey = `${p.policy}|${JSON.stringify(p.policyOptions)}`;
      let policy: Policy;
      let keyOf: KeyOf | undefined;
      try {
        policy =
          old?.policy && old.policyKey === policyKey
            ? old.policy
            : createPolicy(p.policy, { rng: ctx.rng, options: p.policyOptions });
        keyOf = keyExtractor(p);
      } catch (e) {
        throw new SnapshotInvalidError(`pool ${p.name}: ${errorMessage(e)}`, { cause: e });
      }
      const tls = p.tls
        ? compileTlsOrigin(p.name, p.tls, tlsInputs, (k) => ctx.tlsOrigins.get(k))
        : undefined;
      if (tls) origins.add(tls);
      const keys = new Set<string>();
      const backends = p.backends.map((b) => {
        const state = ctx.registry.obtain(b.address, b.port);
        if (keys.has(state.key)) {
          throw new SnapshotInvalidError(`pool ${p.name} lists ${state.key} twice`);
        }
        keys.add(state.key);
        upstreamKeys.add(state.key);
        // Disabled backends are not checked (like HAProxy's maintenance mode); re-enabled, they start "unknown".
        const checker =
          b.state === "disabled" ? undefined : ctx.checkers.prepare(b.address, b.port, p.healthCheck, tls);
        if (checker) usedCheckers.add(checker);
        const connKey = connKeyOf(state.key, tls);
        upstreamKeys.add(connKey);
        return new BackendRuntime(
          b,
          state,
          sh.backendState(state.key),
          ctx.agents.get(connKey, tls && { origin: tls, backendKey: state.key, address: b.address }),
          checker,
          p.slowStartMs,
          p.limits.maxConnectionsPerBackend,
          tls,
          ctx.workerCount,
        );
      });
      const runtime = new PoolRuntime(p.id, p.name, p.policy, policy, backends, p, sh, keyOf, ctx.env);
      runtime.upstreamH2 = compileH2Upstream(p, backends, ctx.h2, ctx.timeouts, h2Groups);
      pools.set(p.id, runtime);
      shared.set(p.id, sh);
      commits.push(() => commitPool(sh, runtime, old !== undefined, policy, policyKey, keys, ctx.env));
    }
  } catch (e) {
    ctx.checkers.abort();
    throw e;
  }

  const poolsById = new Map(snapshot.pools.map((p) => [p.id, p]));
  const tables = new Map<string, RouteTable>();
  const listeners = new Map<string, ListenerConfig>();
  const listenerStats = new Map<string, TrafficCounters>();
  const routeStats = new Map<string, TrafficCounters>();
  const handshakeStats = new Map<string, HandshakeCounters>();
  const certificates = new Map(snapshot.certificates.map((c) => [c.id, c]));
  const acmeTokens = compileAcmeTokens(snapshot.acmeChallenges);
  try {
    for (const l of snapshot.listeners) {
      // Tables are keyed by listener id: a repeated id would hand one listener another's routes.
      if (tables.has(l.id)) throw new SnapshotInvalidError(`listener id ${l.id} appears twice`);
      const routes = l.routes.map((r) => {
        const pool = pools.get(r.poolId);
        if (!pool) throw new SnapshotInvalidError(`route ${r.id} points at missing pool ${r.poolId}`);
        const stats = routeStats.get(r.id) ?? ctx.routeStats.get(r.id) ?? new TrafficCounters();
        routeStats.set(r.id, stats);
        return {
          id: r.id,
          host: r.host.toLowerCase(),
          pathPrefix: r.pathPrefix,
          priority: r.priority,
          pool,
          stats,
          action: r.action,
          redirect:
            r.action === "redirect" ? compileRedirect(r, l.protocol, poolsById.get(r.poolId)!) : undefined,
        };
      });
      if (l.protocol === "tcp" && routes.length === 0) {
        throw new SnapshotInvalidError(`tcp listener ${l.name} has no route, so no pool to forward to`);
      }
      const stats = ctx.listenerStats.get(l.id) ?? new TrafficCounters();
      listenerStats.set(l.id, stats);
      let config = listenerConfig(l, ctx.timeouts, stats);
      if (l.protocol === "http" && l.tls) {
        const handshakes = ctx.handshakeStats.get(l.id) ?? new HandshakeCounters();
        handshakeStats.set(l.id, handshakes);
        const tls = compileListenerTls(l.name, l.tls, certificates, ctx.tlsMaterial);
        config = { ...config, tls, handshakes, ...(ctx.ticketKey ? { ticketKey: ctx.ticketKey } : {}) };
      }
      if (l.protocol === "http" && !l.tls && acmeTokens) config = { ...config, acmeTokens };
      listeners.set(l.id, config);
      tables.set(l.id, new RouteTable(routes, config));
    }
  } catch (e) {
    ctx.checkers.abort();
    throw e;
  }

  return {
    pools,
    shared,
    tables,
    listeners,
    listenerStats,
    routeStats,
    handshakeStats,
    upstreamKeys,
    commit() {
      for (const c of commits) c();
      ctx.checkers.commit(usedCheckers);
      ctx.tlsOrigins.retainOnly(origins);
      ctx.h2.retainOnly(h2Groups);
      ctx.registry.retainOnly(upstreamKeys);
      for (const [id, sh] of ctx.pools) if (!shared.has(id)) sh.close();
      for (const sh of shared.values()) sh.pump();
    },
    abort() {
      ctx.checkers.abort();
    },
  };
}

function commitPool(
  sh: PoolShared,
  runtime: PoolRuntime,
  existed: boolean,
  policy: Policy,
  policyKey: string,
  keys: ReadonlySet<string>,
  env: PoolEnv,
): void {
  const p = runtime.settings;
  const previous = existed ? sh.current : undefined;
  sh.policy = policy;
  sh.policyKey = policyKey;

  const od = p.outlierDetection;
  const outlierKey = JSON.stringify(od);
  if (!od.enabled) {
    sh.outlier = undefined;
    sh.outlierKey = "";
  } else if (!sh.outlier || sh.outlierKey !== outlierKey) {
    sh.outlier = new OutlierDetector(od);
    sh.outlierKey = outlierKey;
  }
  sh.outlier?.setBackends(keys);
  // Ejections this detector no longer knows about (settings changed, or detection off) end now,
  // announced like an ejection period that is over: the console shows the backend ejected until
  // a "restored" event or the announced end, and traffic reaches it again from now.
  for (const [key, st] of sh.perBackend) {
    if (st.ejected && !sh.outlier?.isEjected(key, monotonicNow())) {
      clearTimeout(st.ejectTimer);
      st.ejectTimer = undefined;
      st.ejected = false;
      // A backend the pool no longer lists is forgotten below, with no event: it has no place in the pool's timeline.
      const b = runtime.backends.find((x) => x.key === key);
      if (!b) continue;
      st.availableSince = monotonicNow();
      b.shared.counters.healthTransitions++;
      env.emit(
        runtime.event(
          b,
          "restored",
          od.enabled ? "outlier detection settings changed" : "outlier detection off",
        ),
      );
    }
  }
  sh.retainBackends(keys);

  const budgetKey = String(p.retries.budgetPercent);
  if (!retriesNeeded(p)) {
    sh.budget = undefined;
    sh.budgetKey = "";
  } else if (!sh.budget || sh.budgetKey !== budgetKey) {
    sh.budget = new RetryBudget({ budgetPercent: p.retries.budgetPercent });
    sh.budgetKey = budgetKey;
  }

  const stickyKey = String(p.persistence.ttlSeconds);
  if (p.persistence.type !== "source_ip") {
    sh.sticky = undefined;
    sh.stickyKey = "";
  } else if (!sh.sticky || sh.stickyKey !== stickyKey) {
    sh.sticky = new StickyTable({ ttlMs: p.persistence.ttlSeconds * 1000, maxEntries: STICKY_MAX_ENTRIES });
    sh.stickyKey = stickyKey;
  }

  // Slow start for a backend this running pool starts sending to: newly listed or enabled again.
  if (previous && p.slowStartMs > 0) {
    const before = new Map(previous.backends.map((b) => [b.key, b.state]));
    for (const b of runtime.backends) {
      if (b.state === "enabled" && before.get(b.key) !== "enabled") b.perPool.availableSince = monotonicNow();
    }
  }
  sh.current = runtime;
}

/**
 * The pool's strings that reach a request line, a header or a socket call,
 * checked again here (the schema checks them when a snapshot is decoded), so
 * a snapshot that bypassed the schema is refused as a whole, with the field.
 */
function assertPoolStrings(p: SnapshotPool): void {
  const bad = (what: string, v: string) =>
    new SnapshotInvalidError(`pool ${p.name}: ${what} ${JSON.stringify(v.slice(0, 200))} is not valid`);
  const hc = p.healthCheck;
  if (hc.type === "http" && !isOriginForm(hc.path)) throw bad("health-check path", hc.path);
  if (hc.expectBody !== undefined && !isPrintableText(hc.expectBody, 1024)) {
    throw bad("health-check expectBody", hc.expectBody);
  }
  for (const b of p.backends) if (!isHostOrIp(b.address)) throw bad("backend address", b.address);
}

/**
 * A redirect needs somewhere to send the client: every backend of its pool
 * must have a publicBaseUrl (the console refuses otherwise; a hand-written
 * snapshot without one is refused here, as a whole, with the reason).
 */
function compileRedirect(r: SnapshotRoute, protocol: string, pool: SnapshotPool): CompiledRedirect {
  if (protocol !== "http") throw new SnapshotInvalidError(`route ${r.id}: only http listeners can redirect`);
  const baseUrls = new Map<string, string>();
  for (const b of pool.backends) {
    if (b.publicBaseUrl === null) {
      throw new SnapshotInvalidError(
        `route ${r.id} redirects to pool ${pool.name}, but backend ${b.name || upstreamKey(b)} has no publicBaseUrl`,
      );
    }
    // Written into Location headers as is.
    if (!isUrlText(b.publicBaseUrl)) {
      throw new SnapshotInvalidError(`backend ${b.id}: publicBaseUrl is not a plain URL`);
    }
    baseUrls.set(b.id, b.publicBaseUrl.replace(/\/+$/, ""));
  }
  const o = r.redirect ?? { status: 302, loopGuard: REDIRECT_LOOP_GUARD_DEFAULT };
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(o.loopGuard)) {
    throw new SnapshotInvalidError(`route ${r.id}: redirect loop guard is not a plain parameter name`);
  }
  return { status: o.status, loopGuard: o.loopGuard, baseUrls };
}

/** Where hashing policies take their key from (see RequestFacts). */
function keyExtractor(p: SnapshotPool): KeyOf | undefined {
  if (p.policy === "source_ip_hash") return (f) => f.clientIp || undefined;
  if (p.policy !== "consistent_hash") return undefined;
  const o = parseConsistentHashOptions(p.policyOptions);
  switch (o.key) {
    case "client_ip":
      return (f) => f.clientIp || undefined;
    case "header": {
      if (!isToken(o.keyName ?? "")) throw new Error("the hash key header name is not a token");
      const name = o.keyName!.toLowerCase();
      return (f) => f.header(name);
    }
    case "cookie": {
      if (!isToken(o.keyName ?? "")) throw new Error("the hash key cookie name is not a token");
      const name = o.keyName!;
      return (f) => f.cookie(name);
    }
    case "path":
      return (f) => f.path || undefined;
  }
}
