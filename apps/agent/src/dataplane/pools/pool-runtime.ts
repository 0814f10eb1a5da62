import {
  eligible,
  nextEwma,
  type OutlierDetector,
  type Policy,
  type RetryBudget,
  StickyTable,
} from "@fulcrum/balancer";
import {
  createHistogram,
  type HealthEvent,
  isCookieName,
  recordValue,
  type SnapshotPool,
} from "@fulcrum/protocol";
import { SnapshotInvalidError } from "../../errors";
import { guarded } from "../../guard";
import type { Logger } from "../../log";
import type { AcquireResult, Lease, Outcome, PoolHandle, RequestFacts } from "../exchange";
import { countStatus, PoolCounters } from "../stats/counters";
import type { H2PoolUpstream } from "../upstream-h2/pool-upstream";
import { type BackendRuntime, monotonicNow, type PoolBackendState } from "./backend-runtime";
import type { StickySync } from "./sticky-sync";

/** Source-IP affinity entries kept per pool at most (least recently used goes first). */
export const STICKY_MAX_ENTRIES = 100_000;

export type KeyOf = (facts: RequestFacts) => string | undefined;

export interface PoolEnv {
  readonly log: Logger;
  emit(event: HealthEvent): void;
  /** Set with --workers N: source-IP pins are shared node-wide through it. */
  readonly sticky?: StickySync;
}

interface Waiter {
  readonly facts: RequestFacts;
  readonly exclude: ReadonlySet<string> | undefined;
  readonly resolve: (r: AcquireResult) => void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

const FULL = 1;
const NONE = 0;

/**
 * Everything about a pool that outlives one snapshot: counters, the policy
 * object (round-robin position, WRR scores), outlier detector, retry budget,
 * sticky table, the wait queue and per-address ejection/slow-start state.
 * `current` is the PoolRuntime of the snapshot being served; queued requests
 * are served from it, so a swap never strands a waiter on an old config.
 */
export class PoolShared {
  readonly counters = new PoolCounters(createHistogram());
  readonly perBackend = new Map<string, PoolBackendState>();
  readonly queue: Waiter[] = [];
  current!: PoolRuntime;
  policy: Policy | undefined;
  policyKey = "";
  outlier: OutlierDetector | undefined;
  outlierKey = "";
  budget: RetryBudget | undefined;
  budgetKey = "";
  sticky: StickyTable | undefined;
  stickyKey = "";
  /**
   * The pin lookup() last dropped because its backend may no longer serve
   * (kept only when pins are shared): the next pin of that client names it as
   * the one it replaces. One slot is enough: select() and the pin that follows
   * run in the same tick.
   */
  droppedPin: { clientIp: string; backendId: string } | undefined;
  /**
   * Cookie persistence keeps no state here (the client holds the cookie); to
   * report how many sessions are pinned, the client IPs seen with each
   * backend's cookie are remembered for the persistence TTL.
   */
  private cookieSessions: StickyTable | undefined;
  private cookieSessionsTtlMs = 0;

  constructor(readonly id: string) {}

  noteCookieSession(clientIp: string, backendId: string, ttlSeconds: number, now: number): void {
    const ttlMs = ttlSeconds * 1000;
    if (!this.cookieSessions || this.cookieSessionsTtlMs !== ttlMs) {
      this.cookieSessions = new StickyTable({ ttlMs, maxEntries: STICKY_MAX_ENTRIES });
      this.cookieSessionsTtlMs = ttlMs;
    }
    this.cookieSessions.set(clientIp, backendId, now);
  }

  /** Sticky sessions pinned to each backend id now, for the pool's current persistence type. */
  stickyCounts(now: number): Record<string, number> {
    const type = this.current?.settings.persistence.type;
    if (type !== "cookie") this.cookieSessions = undefined;
    const table = type === "source_ip" ? this.sticky : type === "cookie" ? this.cookieSessions : undefined;
    return table ? Object.fromEntries(table.countByBackend(now)) : {};
  }

  backendState(key: string): PoolBackendState {
    let s = this.perBackend.get(key);
    if (!s) {
      s = { ejected: false, ejectTimer: undefined, availableSince: undefined };
      this.perBackend.set(key, s);
    }
    return s;
  }

  /** Forgets addresses the pool no longer lists (their ejection timers included). */
  retainBackends(keys: ReadonlySet<string>): void {
    for (const [key, s] of this.perBackend) {
      if (keys.has(key)) continue;
      clearTimeout(s.ejectTimer);
      this.perBackend.delete(key);
    }
  }

  /** Serves waiters, oldest first, while backends have room. */
  pump(): void {
    const q = this.queue;
    while (q.length > 0) {
      const w = q[0]!;
      const r = this.current.select(w.facts, w.exclude);
      if (r === FULL) return;
      q.shift();
      this.unwait(w);
      if (r === NONE) {
        this.counters.noBackend++;
        w.resolve({ ok: false, reason: "no-backend" });
      } else w.resolve({ ok: true, lease: this.current.lease(r, w.facts) });
    }
  }

  unwait(w: Waiter): void {
    clearTimeout(w.timer);
    if (w.signal && w.onAbort) w.signal.removeEventListener("abort", w.onAbort);
  }

  /** The pool was removed: its waiters get 503 now. */
  close(): void {
    for (const w of this.queue.splice(0)) {
      this.unwait(w);
      w.resolve({ ok: false, reason: "no-backend" });
    }
    for (const s of this.perBackend.values()) clearTimeout(s.ejectTimer);
  }
}

/** One pool of one snapshot: eligibility, policy, persistence, limits and the queue, retries, outcomes. */
export class PoolRuntime implements PoolHandle {
  private readonly byCookie = new Map<string, BackendRuntime>();
  private readonly hasLimits: boolean;
  /** `NAME=` of the sticky cookie, checked once here: a name that is not a token never reaches a header. */
  private readonly cookiePrefix: string | undefined;
  readonly counters: PoolCounters;
  /** The pool's HTTP/2 upstream sessions, set by compile when its upstream protocol is h2 or h2c. */
  upstreamH2: H2PoolUpstream | undefined;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly policyName: string,
    readonly policy: Policy,
    readonly backends: readonly BackendRuntime[],
    readonly settings: SnapshotPool,
    readonly shared: PoolShared,
    private readonly keyOf: KeyOf | undefined,
    private readonly env: PoolEnv,
  ) {
    this.counters = shared.counters;
    const p = settings.persistence;
    if (p.type === "cookie") {
      // The schema refuses such a name; a snapshot that bypassed it is refused here, before it could split responses.
      if (!isCookieName(p.cookieName)) {
        throw new SnapshotInvalidError(
          `pool ${name}: persistence cookie name ${JSON.stringify(p.cookieName)} is not a token`,
        );
      }
      this.cookiePrefix = `${p.cookieName}=`;
    }
    this.hasLimits = backends.some((b) => b.maxConnections !== undefined);
    for (const b of backends) this.byCookie.set(b.shared.cookieValue, b);
  }

  /** Some backend has a connection limit, so acquire() may wait: front ends pass an AbortSignal then. */
  get mayQueue(): boolean {
    return this.hasLimits;
  }

  get queueLength(): number {
    return this.shared.queue.length;
  }

  /**
   * The synchronous fast path of acquire(): the result when it needs no wait
   * (a lease, "no-backend", "queue-full"), or undefined when the request must
   * wait in the queue; then nothing was counted or chosen and the caller goes
   * on with acquire(). Saves a Promise and a microtask per request.
   */
  tryAcquire(facts: RequestFacts, exclude?: ReadonlySet<string>): AcquireResult | undefined {
    const ex = exclude !== undefined && exclude.size > 0 ? exclude : undefined;
    const r = this.shared.queue.length > 0 ? FULL : this.select(facts, ex);
    if (r === FULL && this.shared.queue.length < this.settings.limits.queueSize) return undefined;
    if (ex === undefined) this.shared.budget?.recordRequest(monotonicNow());
    if (r === FULL) {
      this.counters.queueFull++;
      return QUEUE_FULL;
    }
    if (r === NONE) {
      this.counters.noBackend++;
      return NO_BACKEND;
    }
    return { ok: true, lease: this.lease(r, facts) };
  }

  acquire(
    facts: RequestFacts,
    opts?: {
      readonly exclude?: ReadonlySet<string>;
      readonly signal?: AbortSignal;
      readonly routeId?: string;
    },
  ): Promise<AcquireResult> {
    const now = this.tryAcquire(facts, opts?.exclude);
    if (now !== undefined) return Promise.resolve(now);
    // Every eligible backend is at its limit (or others already wait): queue, bounded.
    const exclude = opts?.exclude !== undefined && opts.exclude.size > 0 ? opts.exclude : undefined;
    if (exclude === undefined) this.shared.budget?.recordRequest(monotonicNow());
    const limits = this.settings.limits;
    this.counters.queued++;
    return new Promise<AcquireResult>((resolve) => {
      const shared = this.shared;
      const w: Waiter = {
        facts,
        exclude,
        resolve,
        timer: undefined,
        signal: opts?.signal,
        onAbort: undefined,
      };
      const leave = (reason: "queue-timeout" | "no-backend") => {
        const i = shared.queue.indexOf(w);
        if (i === -1) return;
        shared.queue.splice(i, 1);
        shared.unwait(w);
        if (reason === "queue-timeout") shared.counters.queueTimeouts++;
        resolve({ ok: false, reason });
      };
      w.timer = setTimeout(
        guarded(this.env.log, `queue timeout of pool ${this.name}`, () => leave("queue-timeout")),
        limits.queueTimeoutMs,
      );
      if (w.signal) {
        w.onAbort = () => leave("no-backend");
        w.signal.addEventListener("abort", w.onAbort, { once: true });
      }
      shared.queue.push(w);
      // A slot may have freed between select() and now (or the queue was only non-empty).
      shared.pump();
    });
  }

  mayRetry(attempt: number): boolean {
    const r = this.settings.retries;
    if (!r.enabled || attempt < 1 || attempt > r.attempts) return false;
    if (this.shared.budget && !this.shared.budget.tryRetry(monotonicNow())) return false;
    this.counters.retries++;
    return true;
  }

  /** A backend for these facts, or FULL (eligible ones exist but are at their limits) or NONE. */
  select(
    facts: RequestFacts,
    exclude: ReadonlySet<string> | undefined,
  ): BackendRuntime | typeof FULL | typeof NONE {
    const all = exclude === undefined ? this.backends : this.backends.filter((b) => !exclude.has(b.key));
    const stuck = this.stuckBackend(facts, all);
    if (stuck !== undefined) return stuck.full ? FULL : stuck;
    let candidates: readonly BackendRuntime[] = all;
    if (this.hasLimits) {
      const elig = eligible(all);
      if (elig.length === 0) return NONE;
      candidates = elig.filter((b) => !b.full);
      if (candidates.length === 0) return FULL;
    }
    const key = this.keyOf?.(facts);
    const b = this.policy.pick(key === undefined ? { backends: candidates } : { backends: candidates, key });
    return b ?? NONE;
  }

  /** The backend a sticky cookie or source-IP entry names, while it may still serve. */
  private stuckBackend(facts: RequestFacts, all: readonly BackendRuntime[]): BackendRuntime | undefined {
    const p = this.settings.persistence;
    if (p.type === "cookie") {
      const v = facts.cookie(p.cookieName);
      if (v === undefined) return undefined;
      const b = this.byCookie.get(v);
      return b !== undefined && eligible(all).includes(b) ? b : undefined;
    }
    const table = this.shared.sticky;
    if (p.type === "source_ip" && table) {
      const now = monotonicNow();
      const sync = this.env.sticky;
      if (sync === undefined) return table.lookup(facts.clientIp, all, now);
      const had = table.peek(facts.clientIp, now);
      const b = table.lookup(facts.clientIp, all, now);
      if (b !== undefined) sync.used(this.id, facts.clientIp);
      else if (had !== undefined) this.shared.droppedPin = { clientIp: facts.clientIp, backendId: had };
      return b;
    }
    return undefined;
  }

  /**
   * Source-IP persistence: pins the client to `backendId` (a hit refreshes the
   * TTL). With --workers N a new pin is published, and the control process's
   * answer (the node-wide winner) replaces it in every worker.
   */
  pinClient(clientIp: string, backendId: string): void {
    const table = this.shared.sticky;
    if (table === undefined || clientIp === "") return;
    const replaced = table.set(clientIp, backendId, monotonicNow());
    const sync = this.env.sticky;
    if (sync === undefined || replaced === backendId) return;
    const dropped = this.shared.droppedPin;
    this.shared.droppedPin = undefined;
    sync.pinned(
      this.id,
      clientIp,
      backendId,
      replaced ?? (dropped?.clientIp === clientIp ? dropped.backendId : undefined),
    );
  }

  /** The Set-Cookie value pinning the client to `b`, unless it already carries it (or the pool does not persist by cookie). */
  stickyCookie(b: BackendRuntime, facts: RequestFacts): string | undefined {
    const prefix = this.cookiePrefix;
    if (prefix === undefined || facts.cookie(this.settings.persistence.cookieName) === b.shared.cookieValue) {
      return undefined;
    }
    return `${prefix}${b.shared.cookieValue}; Path=/; HttpOnly`;
  }

  lease(b: BackendRuntime, facts: RequestFacts): Lease {
    b.shared.acquire();
    // The pool's "active connections": leases held (attempts in progress, tunnels, TCP connections).
    this.counters.activeConnections++;
    const p = this.settings.persistence;
    let headers: ReadonlyArray<readonly [string, string]> = NO_HEADERS;
    if (p.type === "cookie") {
      const cookie = this.stickyCookie(b, facts);
      if (cookie !== undefined) headers = [["set-cookie", cookie]];
      if (facts.clientIp !== "")
        this.shared.noteCookieSession(facts.clientIp, b.id, p.ttlSeconds, monotonicNow());
    } else if (p.type === "source_ip") {
      this.pinClient(facts.clientIp, b.id);
    }
    return new PoolLease(this, b, headers);
  }

  /** Outcome bookkeeping: counters, latency, outlier detection; then frees the slot. */
  settle(b: BackendRuntime, outcome: Outcome, bytes?: { fromClient: number; toClient: number }): void {
    const s = b.shared;
    const c = s.counters;
    if (bytes) {
      c.bytesIn += bytes.fromClient;
      c.bytesOut += bytes.toClient;
    }
    let success: boolean | undefined;
    switch (outcome.kind) {
      case "response":
        s.ewmaMs = nextEwma(s.ewmaMs, outcome.latencyMs);
        if (outcome.status > 0) {
          countStatus(c, outcome.status);
          recordValue(c.latency, outcome.latencyMs);
          recordValue(this.counters.latency, outcome.latencyMs);
        } else c.tcpSessions++;
        success = outcome.status < 500;
        break;
      case "connect-failed":
        c.connectFailures++;
        success = false;
        break;
      case "failed-before-response":
        c.failuresBeforeResponse++;
        if (outcome.timeout) c.timeouts++;
        success = false;
        break;
      case "failed-after-response":
        c.failuresAfterResponse++;
        success = false;
        break;
      case "client-aborted":
        c.clientAborts++;
        break;
    }
    const outlier = this.shared.outlier;
    if (success !== undefined && outlier) {
      const ej = outlier.observe(b.key, success, monotonicNow());
      if (ej) this.eject(b, ej.until, ej.ejections, outcome);
    }
    this.counters.activeConnections--;
    s.release();
    this.shared.pump();
  }

  private eject(b: BackendRuntime, until: number, times: number, why: Outcome): void {
    const shared = this.shared;
    const st = shared.backendState(b.key);
    st.ejected = true;
    b.shared.counters.ejections++;
    b.shared.counters.healthTransitions++;
    const ms = Math.max(1, Math.round(until - monotonicNow()));
    const reason =
      why.kind === "response"
        ? `${this.settings.outlierDetection.consecutiveFailures} consecutive failures (last: status ${why.status}); ejection ${times} for ${ms} ms`
        : `${this.settings.outlierDetection.consecutiveFailures} consecutive failures (last: ${why.kind}); ejection ${times} for ${ms} ms`;
    this.env.emit(this.event(b, "ejected", reason));
    clearTimeout(st.ejectTimer);
    st.ejectTimer = setTimeout(
      guarded(this.env.log, `ejection end of ${b.key} in pool ${this.name}`, () => {
        st.ejectTimer = undefined;
        st.ejected = false;
        st.availableSince = monotonicNow();
        b.shared.counters.healthTransitions++;
        // Report against the backend entry of the config serving now.
        const now = shared.current.backends.find((x) => x.key === b.key);
        if (now) this.env.emit(shared.current.event(now, "restored", "ejection period over"));
        shared.pump();
      }),
      ms,
    );
    st.ejectTimer.unref();
  }

  event(b: BackendRuntime, state: HealthEvent["state"], reason?: string): HealthEvent {
    return {
      poolId: this.id,
      backendId: b.id,
      address: b.address,
      port: b.port,
      state,
      ...(reason === undefined ? {} : { reason: reason.slice(0, 500) }),
      at: new Date().toISOString(),
    };
  }
}

const NO_HEADERS: ReadonlyArray<readonly [string, string]> = Object.freeze([]);
const NO_BACKEND: AcquireResult = Object.freeze({ ok: false, reason: "no-backend" });
const QUEUE_FULL: AcquireResult = Object.freeze({ ok: false, reason: "queue-full" });

class PoolLease implements Lease {
  private done = false;

  constructor(
    private readonly pool: PoolRuntime,
    readonly backend: BackendRuntime,
    readonly responseHeaders: ReadonlyArray<readonly [string, string]>,
  ) {}

  finish(outcome: Outcome, bytes?: { readonly fromClient: number; readonly toClient: number }): void {
    if (this.done) return;
    this.done = true;
    this.pool.settle(this.backend, outcome, bytes);
  }
}
