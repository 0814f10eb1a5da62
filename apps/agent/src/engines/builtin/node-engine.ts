import type {
  CaBundleMaterial,
  Snapshot,
  SnapshotListener,
  TicketKeyRing,
  TlsMaterial,
} from "@fulcrum/protocol";
import { DnsListener } from "../../dataplane/frontends/dns/dns-listener";
import { HttpListener } from "../../dataplane/frontends/h1/http-listener";
import { bindKey, type Listener } from "../../dataplane/frontends/listener";
import { type ListenerConfig, timeoutsFor } from "../../dataplane/frontends/listener-config";
import { NodeHttpListener } from "../../dataplane/frontends/node-http/node-http-listener";
import { TcpListener } from "../../dataplane/frontends/tcp/tcp-listener";
import { SharedTicketKey } from "../../dataplane/frontends/tls/ticket-keys";
import { type HealthChecker, HealthCheckers, type HealthRole } from "../../dataplane/health/health-checker";
import { type BackendRuntime, monotonicNow } from "../../dataplane/pools/backend-runtime";
import { BackendRegistry, type BackendState } from "../../dataplane/pools/backend-state";
import { TlsOrigins } from "../../dataplane/pools/backend-tls";
import type { PoolRuntime, PoolShared } from "../../dataplane/pools/pool-runtime";
import type { RouteTable } from "../../dataplane/pools/route-table";
import type { StickySync } from "../../dataplane/pools/sticky-sync";
import { UpstreamAgents } from "../../dataplane/pools/upstream-agents";
import type { TrafficCounters } from "../../dataplane/stats/counters";
import type { HandshakeCounters } from "../../dataplane/stats/handshake-counters";
import { type DataPlaneTimeouts, DEFAULT_TIMEOUTS } from "../../dataplane/timeouts";
import { H2Upstreams } from "../../dataplane/upstream-h2/session-pool";
import { errorMessage, ListenerBindError } from "../../errors";
import type { Logger } from "../../log";
import type { AppliedSnapshot, Engine } from "../engine";
import { type BackendStats, type EngineStats, emptyEngineStats, type PoolStats } from "../engine-stats";
import { type HealthEventListener, HealthEvents } from "../health-events";
import { SerialQueue } from "../serial-queue";
import { type CompiledConfig, compileSnapshot } from "./compile";

/** A compiled and bound snapshot waiting for commit() (serve it) or abort() (keep the old one). */
export interface PreparedApply {
  commit(): void;
  abort(): Promise<void>;
}

export interface NodeEngineOptions {
  log: Logger;
  timeouts?: Partial<DataPlaneTimeouts>;
  rng?: () => number;
  /** HTTP front end: "h1" (default, dataplane/frontends/h1/) or "node" (node:http, frontends/node-http/), the reference path. */
  httpFrontEnd?: "h1" | "node";
  /** With several workers: whether this one probes backends or adopts the leader's verdicts (HealthRole). */
  health?: HealthRole;
  /** Data-plane workers of this node, this one included (default 1): each enforces 1/N of a connection limit. */
  workerCount?: number;
  /** With several workers: where new source-IP pins are published (the node-wide table, workers/sticky-relay.ts). */
  stickySync?: StickySync;
}

interface DrainWatch {
  readonly pool: PoolRuntime;
  readonly backend: BackendRuntime;
}

/**
 * The in-process data plane (node:http / node:net). Reconfiguration is
 * prepare-then-swap: compile, bind what is new, and only then hand tables to
 * listeners and retire what is gone. Backend state (in-flight, latency,
 * counters, health checkers, ejections, sticky tables) lives outside the
 * compiled config and survives the swap.
 */
export class NodeEngine implements Engine {
  private listeners = new Map<string, Listener>();
  private pools: ReadonlyMap<string, PoolRuntime> = new Map();
  private shared: ReadonlyMap<string, PoolShared> = new Map();
  private listenerStats: ReadonlyMap<string, TrafficCounters> = new Map();
  private routeStats: ReadonlyMap<string, TrafficCounters> = new Map();
  private handshakeStats: ReadonlyMap<string, HandshakeCounters> = new Map();
  private listenerNames = new Map<string, string>();
  private current: AppliedSnapshot | undefined;
  private readonly queue = new SerialQueue();
  private readonly timeouts: DataPlaneTimeouts;
  private readonly agents: UpstreamAgents;
  private readonly tlsOrigins = new TlsOrigins();
  /** HTTP/2 sessions to the backends of h2/h2c pools (upstream-h2/), kept across snapshots. */
  readonly h2Upstreams = new H2Upstreams();
  private readonly log: Logger;
  private readonly rng: () => number;
  private readonly httpFrontEnd: "h1" | "node";
  private readonly workerCount: number;
  private readonly stickySync: StickySync | undefined;
  private readonly registry = new BackendRegistry();
  /** Active health checks; workers/worker-main.ts relays verdicts between workers through it. */
  readonly checkers: HealthCheckers;
  private readonly events = new HealthEvents();
  /** Draining backends by key, and the (pool, backend) pairs already reported drained. */
  private draining = new Map<string, DrainWatch[]>();
  private drained = new Set<string>();
  /** The cluster's session-ticket key, shared by every TLS listener; rotated by setTicketKeys, not by snapshots. */
  private readonly ticketKey = new SharedTicketKey();

  constructor(opts: NodeEngineOptions) {
    this.log = opts.log;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    this.agents = new UpstreamAgents(this.timeouts);
    this.rng = opts.rng ?? Math.random;
    this.httpFrontEnd = opts.httpFrontEnd ?? "h1";
    this.workerCount = opts.workerCount ?? 1;
    this.stickySync = opts.stickySync;
    this.checkers = new HealthCheckers(
      (c, to, _from, reason) => this.healthChanged(c, to, reason),
      this.rng,
      this.log,
      opts.health,
    );
    this.registry.onIdle((s) => this.backendIdle(s));
    this.events.subscribe((e) => {
      const fields = {
        pool: e.poolId,
        backend: e.backendId,
        upstream: `${e.address}:${e.port}`,
        reason: e.reason,
      };
      if (e.state === "down" || e.state === "ejected") this.log.warn(`backend ${e.state}`, fields);
      else this.log.info(`backend ${e.state}`, fields);
    });
  }

  get applied(): AppliedSnapshot | undefined {
    return this.current;
  }

  /** Listener by bind address, for status output and tests. */
  listenerAt(bindAddress: string, port: number): Listener | undefined {
    return this.listeners.get(bindKey(bindAddress, port));
  }

  /** The pool runtime serving now, for status output and tests. */
  pool(id: string): PoolRuntime | undefined {
    return this.pools.get(id);
  }

  /**
   * Source-IP pins decided elsewhere (the control process's node-wide table):
   * client IP, backend id, time left. They replace this worker's own pin for
   * the client, and keep the expiry they have there.
   */
  adoptPins(poolId: string, pins: readonly (readonly [string, string, number])[]): void {
    const table = this.shared.get(poolId)?.sticky;
    if (table === undefined) return;
    const now = monotonicNow();
    for (const [clientIp, backendId, ttlLeftMs] of pins) table.set(clientIp, backendId, now, ttlLeftMs);
  }

  onHealthEvent(listener: HealthEventListener): () => void {
    return this.events.subscribe(listener);
  }

  /**
   * The cluster's ticket-key ring: every TLS listener, open or to come, uses
   * its current key from now on (Node keeps one key per server). A bad ring
   * throws TicketKeysInvalidError and changes nothing.
   */
  async setTicketKeys(ring: TicketKeyRing): Promise<void> {
    this.ticketKey.use(ring);
  }

  /** `tlsMaterial`: keys and chains of the snapshot's certificates (snapshot message, not the snapshot). */
  apply(
    snapshot: Snapshot,
    tlsMaterial: readonly TlsMaterial[] = [],
    caBundles: readonly CaBundleMaterial[] = [],
  ): Promise<void> {
    // Serialized: two overlapping applies would race on the same ports.
    return this.queue.run(() => this.applyNow(snapshot, tlsMaterial, caBundles));
  }

  /**
   * First half of an apply, for the multi-worker engine's all-or-nothing
   * across workers: compiles and binds, or rejects with the old config still
   * serving. The caller must then call exactly one of commit() or abort(), and
   * start no other apply in between (workers/worker-main.ts holds the queue).
   */
  prepare(
    snapshot: Snapshot,
    tlsMaterial: readonly TlsMaterial[] = [],
    caBundles: readonly CaBundleMaterial[] = [],
  ): Promise<PreparedApply> {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const run = this.queue.runHeld(() => this.prepareNow(snapshot, tlsMaterial, caBundles), held);
    return run.then((p) => ({
      commit: () => {
        p.commit();
        release();
      },
      abort: () => p.abort().finally(release),
    }));
  }

  private async applyNow(
    snapshot: Snapshot,
    tlsMaterial: readonly TlsMaterial[],
    caBundles: readonly CaBundleMaterial[],
  ): Promise<void> {
    (await this.prepareNow(snapshot, tlsMaterial, caBundles)).commit();
  }

  private async prepareNow(
    snapshot: Snapshot,
    tlsMaterial: readonly TlsMaterial[],
    caBundles: readonly CaBundleMaterial[],
  ): Promise<PreparedApply> {
    const compiled = compileSnapshot(snapshot, {
      pools: this.shared,
      agents: this.agents,
      rng: this.rng,
      registry: this.registry,
      checkers: this.checkers,
      listenerStats: this.listenerStats,
      routeStats: this.routeStats,
      handshakeStats: this.handshakeStats,
      tlsMaterial: new Map(tlsMaterial.map((m) => [m.id, m])),
      ticketKey: this.ticketKey,
      caBundles: new Map(caBundles.map((b) => [b.id, b])),
      tlsOrigins: this.tlsOrigins,
      h2: this.h2Upstreams,
      timeouts: this.timeouts,
      workerCount: this.workerCount,
      env: {
        log: this.log,
        emit: (e) => this.events.emit(e),
        ...(this.stickySync ? { sticky: this.stickySync } : {}),
      },
    });
    const tableOf = (l: SnapshotListener) => compiled.tables.get(l.id) as RouteTable;

    const next = new Map<string, Listener>();
    const fresh: Listener[] = [];
    const displaced: Listener[] = [];
    const wanted = new Set(snapshot.listeners.map((l) => bindKey(l.bindAddress, l.port)));
    try {
      for (const l of snapshot.listeners) {
        const key = bindKey(l.bindAddress, l.port);
        const existing = this.listeners.get(key);
        if (
          existing &&
          existing.protocol === l.protocol &&
          (existing.accepts?.(tableOf(l).config!) ?? true)
        ) {
          next.set(key, existing);
          continue;
        }
        if (existing) {
          // Same socket address, other protocol: it must be released before the new bind.
          await existing.close(0);
          displaced.push(existing);
        }
        const listener = this.createListener(tableOf(l));
        try {
          await listener.bind().catch(async (e) => {
            // Our own listener on this port that the snapshot retires (0.0.0.0:80 → 10.0.0.1:80)
            // holds it until the swap: release it first, as for a protocol change, and bind again.
            const retiring =
              (e as NodeJS.ErrnoException).code === "EADDRINUSE" ? this.retiringOn(l.port, wanted) : [];
            const others = retiring.filter((x) => !displaced.includes(x));
            if (others.length === 0) throw e;
            for (const x of others) {
              await x.close(0);
              displaced.push(x);
            }
            await listener.bind();
          });
        } catch (e) {
          throw new ListenerBindError(`listener ${l.name} cannot bind ${key}: ${errorMessage(e)}`, {
            cause: e,
          });
        }
        fresh.push(listener);
        next.set(key, listener);
      }
    } catch (e) {
      compiled.abort();
      await Promise.all(fresh.map((l) => l.close(0)));
      await this.rebind(displaced);
      throw e;
    }
    return {
      commit: () => this.commitNow(snapshot, compiled, next, displaced),
      abort: async () => {
        compiled.abort();
        await Promise.all(fresh.map((l) => l.close(0)));
        await this.rebind(displaced);
      },
    };
  }

  /** Second half: nothing here can fail. */
  private commitNow(
    snapshot: Snapshot,
    compiled: CompiledConfig,
    next: Map<string, Listener>,
    displaced: readonly Listener[],
  ): void {
    const tableOf = (l: SnapshotListener) => compiled.tables.get(l.id) as RouteTable;
    compiled.commit();
    for (const l of snapshot.listeners) {
      const listener = next.get(bindKey(l.bindAddress, l.port))!;
      const table = tableOf(l);
      listener.setTable(table);
      if (table.config) listener.setConfig?.(table.config);
    }
    const retired = [...this.listeners].filter(([key, l]) => next.get(key) !== l && !displaced.includes(l));
    this.listeners = next;
    this.pools = compiled.pools;
    this.shared = compiled.shared;
    this.listenerStats = compiled.listenerStats;
    this.routeStats = compiled.routeStats;
    this.handshakeStats = compiled.handshakeStats;
    this.listenerNames = new Map(snapshot.listeners.map((l) => [l.id, l.name]));
    this.current = { version: snapshot.version, hash: snapshot.hash };
    this.agents.retainOnly(compiled.upstreamKeys);
    this.watchDraining();
    for (const [key, l] of retired) {
      l.close(this.timeouts.drainGraceMs).then(
        () => this.log.info("listener closed", { bind: key }),
        (e) => this.log.warn("listener close failed", { bind: key, error: errorMessage(e) }),
      );
    }
  }

  /** Listeners bound now on `port` whose bind address the next snapshot no longer lists. */
  private retiringOn(port: number, wanted: ReadonlySet<string>): Listener[] {
    return [...this.listeners].filter(([key, l]) => l.port === port && !wanted.has(key)).map(([, l]) => l);
  }

  /** Best effort: a listener displaced for a protocol or address change goes back if the apply failed. */
  private async rebind(listeners: Listener[]): Promise<void> {
    for (const l of listeners) {
      await l.bind().catch((e) =>
        this.log.error("could not restore listener after failed apply", {
          bind: bindKey(l.bindAddress, l.port),
          error: errorMessage(e),
        }),
      );
    }
  }

  private createListener(table: RouteTable): Listener {
    const c = table.config as ListenerConfig;
    if (c.protocol === "dns") return new DnsListener(c.bindAddress, c.port, table, this.log);
    // TLS, HTTP/2, the redirect to https and ACME answers exist in the h1 front end only, whichever front end serves plain HTTP.
    const h1Only =
      c.tls !== undefined ||
      c.http2 !== undefined ||
      c.redirectToHttps !== undefined ||
      c.acmeTokens !== undefined;
    const Kind =
      c.protocol === "tcp"
        ? TcpListener
        : this.httpFrontEnd === "node" && !h1Only
          ? NodeHttpListener
          : HttpListener;
    return new Kind(c.bindAddress, c.port, table, timeoutsFor(c, this.timeouts), this.log);
  }

  /** Recomputes which backends drain; those already idle are reported at once. */
  private watchDraining(): void {
    const draining = new Map<string, DrainWatch[]>();
    const still = new Set<string>();
    for (const pool of this.pools.values()) {
      for (const backend of pool.backends) {
        if (backend.state !== "draining") continue;
        const list = draining.get(backend.key) ?? [];
        list.push({ pool, backend });
        draining.set(backend.key, list);
        still.add(`${pool.id}|${backend.key}`);
      }
    }
    // A backend that stops draining (enabled again, removed) may drain again later and be reported again.
    for (const k of this.drained) if (!still.has(k)) this.drained.delete(k);
    this.draining = draining;
    for (const [key, list] of draining) {
      const s = this.registry.get(key);
      if (!s || s.inFlight === 0) this.reportDrained(key, list);
    }
  }

  private backendIdle(s: BackendState): void {
    const list = this.draining.get(s.key);
    if (list) this.reportDrained(s.key, list);
  }

  private reportDrained(key: string, list: readonly DrainWatch[]): void {
    let any = false;
    for (const { pool, backend } of list) {
      const k = `${pool.id}|${key}`;
      if (this.drained.has(k)) continue;
      this.drained.add(k);
      any = true;
      this.events.emit(pool.event(backend, "drained", "no requests or connections left"));
    }
    // Pooled keep-alive connections to it are idle by now: close them so the backend can stop.
    if (any) this.agents.closeIdle(key);
  }

  private healthChanged(checker: HealthChecker, to: "up" | "down", reason: string): void {
    const s = this.registry.get(checker.key);
    if (s) {
      s.counters.healthTransitions++;
      if (to === "up") s.availableSince = monotonicNow();
    }
    for (const pool of this.pools.values()) {
      for (const b of pool.backends) if (b.checker === checker) this.events.emit(pool.event(b, to, reason));
    }
    if (to === "up") for (const sh of this.shared.values()) sh.pump();
  }

  stats(): EngineStats {
    const out = emptyEngineStats();
    for (const [id, c] of this.listenerStats) {
      const tls = this.handshakeStats.get(id);
      out.listeners[id] = {
        name: this.listenerNames.get(id) ?? id,
        ...c.toJSON(),
        ...(tls ? { tls: tls.toJSON() } : {}),
      };
    }
    for (const [id, c] of this.routeStats) out.routes[id] = c.toJSON();
    for (const [id, sh] of this.shared) {
      const c = sh.counters;
      const p: PoolStats = {
        name: sh.current.name,
        ...c.toJSON(),
        retries: c.retries,
        queueLength: sh.queue.length,
        queued: c.queued,
        queueFull: c.queueFull,
        queueTimeouts: c.queueTimeouts,
        noBackend: c.noBackend,
        latency: { counts: [...c.latency.counts], sum: c.latency.sum, count: c.latency.count },
        stickySessions: sh.stickyCounts(monotonicNow()),
      };
      out.pools[id] = p;
    }
    for (const s of this.registry.all()) {
      const { latency, ...counters } = s.counters;
      const b: BackendStats = {
        ...counters,
        address: s.address,
        port: s.port,
        inFlight: s.inFlight,
        ewmaMs: s.ewmaMs ?? null,
        latency: { counts: [...latency.counts], sum: latency.sum, count: latency.count },
      };
      out.backends[s.key] = b;
    }
    return out;
  }

  async stop(): Promise<void> {
    await this.queue.idle();
    const all = [...this.listeners.values()];
    this.listeners = new Map();
    this.checkers.stopAll();
    for (const sh of this.shared.values()) sh.close();
    await Promise.all(all.map((l) => l.close(this.timeouts.drainGraceMs)));
    this.agents.destroyAll();
    this.h2Upstreams.destroyAll();
  }
}
