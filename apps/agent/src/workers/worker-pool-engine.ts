import cluster, { type Worker } from "node:cluster";
import type { HealthEvent, WorkerRestart, WorkerState } from "@fulcrum/protocol";
import { monotonicNow } from "../dataplane/pools/backend-runtime";
import type { AppliedSnapshot, Engine, WorkerStatus } from "../engines/engine";
import type { EngineStats } from "../engines/engine-stats";
import { type HealthEventListener, HealthEvents } from "../engines/health-events";
import { SerialQueue } from "../engines/serial-queue";
import { errorMessage, WorkerApplyError, WorkerLostError } from "../errors";
import type { Logger } from "../log";
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from "../retry/backoff";
import { mergeStats, withoutGauges } from "./merge-stats";
import {
  type ApplyArgs,
  type ForwardedArgs,
  type ForwardedCall,
  type FromWorker,
  isFromWorker,
  type ToWorker,
  type Verdict,
  WORKER_COUNT_ENV,
  WORKER_INDEX_ENV,
} from "./messages";
import { NodeStickyTables } from "./node-sticky-tables";

export interface WorkerPoolOptions {
  log: Logger;
  workers: number;
  /** A worker without a heartbeat for this long is killed and restarted (its event loop is stuck). */
  stallMs: number;
  backoff?: BackoffOptions;
}

/** Pins per message when the node-wide table is replayed to a (re)started worker. */
const PIN_CHUNK = 10_000;

/** A worker that lived this long before dying restarts without waiting (its back-off starts over). */
const HEALTHY_RUN_MS = 30_000;

type Waiter = (m: FromWorker | "lost") => boolean;

interface Slot {
  readonly index: number;
  worker: Worker | undefined;
  /** Has sent "up": its heartbeat is watched from then on. */
  alive: boolean;
  /** Has sent "up" and has the current snapshot (or there is none yet). */
  serving: boolean;
  startedAt: number;
  lastBeat: number;
  stats: EngineStats | undefined;
  cpuMicros: number;
  cpuPercent: number;
  loopDelayMs: number;
  restarts: number;
  stalls: number;
  attempt: number;
  waiters: Set<Waiter>;
  /** Why and when it last restarted (the Agents page shows it). */
  lastRestart: WorkerRestart | undefined;
  /** Set just before the control process kills it, so its exit is told apart from a crash. */
  killedFor: "stalled" | "refused" | undefined;
}

/**
 * The builtin engine with N data-plane worker processes (`--workers`), run by
 * the control process. Node's cluster module in SCHED_NONE mode does the
 * listener sharing: a worker's bind asks the control process, which binds the
 * address once and passes the listening handle to every worker; the kernel
 * hands each accepted connection to one of them. Snapshots go to all workers
 * in two steps (prepare everywhere, then commit everywhere, or abort
 * everywhere). See docs/architecture.md, "Workers".
 */
export class WorkerPoolEngine implements Engine {
  private readonly slots: Slot[];
  private readonly events = new HealthEvents();
  private current: { args: ApplyArgs; applied: AppliedSnapshot } | undefined;
  private readonly queue = new SerialQueue();
  private seq = 0;
  private stopping = false;
  private departed: EngineStats | undefined;
  /** The leading worker's verdicts by checker id, for workers that start later. */
  private verdicts = new Map<string, Verdict>();
  /** The last successful forwarded call of each kind (FORWARDED_CALLS), for workers that start later. */
  private calls = new Map<ForwardedCall, unknown[]>();
  /** Drained reports per pool|backend: forwarded once every serving worker has drained it. */
  private drainedBy = new Map<string, Set<number>>();
  /** Source-IP pins node-wide: first pin of a client wins, every worker adopts it. */
  private readonly sticky = new NodeStickyTables();
  private readonly watchdog: NodeJS.Timeout;
  private readonly backoff: BackoffOptions;

  constructor(private readonly opts: WorkerPoolOptions) {
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.slots = Array.from({ length: opts.workers }, (_, index) => ({
      index,
      worker: undefined,
      alive: false,
      serving: false,
      startedAt: 0,
      lastBeat: 0,
      stats: undefined,
      cpuMicros: 0,
      cpuPercent: 0,
      loopDelayMs: 0,
      restarts: 0,
      stalls: 0,
      attempt: 0,
      waiters: new Set<Waiter>(),
      lastRestart: undefined,
      killedFor: undefined,
    }));
    this.watchdog = setInterval(() => this.checkStalls(), Math.max(50, Math.floor(opts.stallMs / 4)));
    this.watchdog.unref();
  }

  /** Forks every worker and waits until each is up (no snapshot yet). */
  async start(): Promise<void> {
    // Shared handles (the control process binds, workers accept), not cluster's default round robin,
    // which accepts in the control process and passes every connection on: an extra hop per connection.
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    await Promise.all(this.slots.map((s) => this.fork(s)));
    this.opts.log.info("data plane: builtin", { workers: this.slots.length });
  }

  get applied(): AppliedSnapshot | undefined {
    return this.current?.applied;
  }

  onHealthEvent(listener: HealthEventListener): () => void {
    return this.events.subscribe(listener);
  }

  setTicketKeys(...args: ForwardedArgs<"setTicketKeys">): Promise<void> {
    return this.forward("setTicketKeys", args);
  }

  /** Every serving worker runs `method`; it is remembered (and replayed to later workers) only if all did. */
  private forward(method: ForwardedCall, args: unknown[]): Promise<void> {
    return this.queue.run(async () => {
      const targets = this.slots.filter((s) => s.serving);
      const results = await Promise.all(targets.map((s) => this.callOn(s, method, args)));
      const failed = results.find((r) => r !== undefined);
      if (failed === "lost") throw new WorkerLostError(`a data-plane worker exited during ${method}`);
      if (failed) throw new WorkerApplyError(failed.code, failed.message, false);
      this.calls.set(method, args);
    });
  }

  /** undefined when done; the worker's error; or "lost". */
  private callOn(
    s: Slot,
    method: ForwardedCall,
    args: unknown[],
  ): Promise<{ code: string; message: string } | "lost" | undefined> {
    const seq = ++this.seq;
    return this.wait(
      s,
      (m) => (m === "lost" ? "lost" : m.t === "called" && m.seq === seq ? (m.error ?? null) : undefined),
      () => this.send(s, { t: "call", seq, method, args }),
    ).then((r) => (r === null ? undefined : r));
  }

  apply(...args: ApplyArgs): Promise<void> {
    return this.queue.run(() => this.applyAll(args));
  }

  workers(): WorkerStatus[] {
    return this.slots.map((s) => ({
      index: s.index,
      pid: s.worker?.process.pid,
      up: s.serving,
      state: this.stateOf(s),
      lastRestart: s.lastRestart,
      cpuPercent: s.cpuPercent,
      eventLoopDelayMs: s.loopDelayMs,
      restarts: s.restarts,
      stalls: s.stalls,
      connections: Object.values(s.stats?.listeners ?? {}).reduce((n, l) => n + l.totalConnections, 0),
    }));
  }

  private stateOf(s: Slot): WorkerState {
    if (s.serving) return "serving";
    if (s.worker) return "starting";
    return this.stopping ? "exited" : "restarting";
  }

  stats(): EngineStats {
    const live = this.slots.flatMap((s) => (s.worker && s.stats ? [s.stats] : []));
    return mergeStats(live, this.departed);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.watchdog);
    await this.queue.idle();
    await Promise.all(
      this.slots.map(
        (s) =>
          new Promise<void>((resolve) => {
            const w = s.worker;
            if (!w || w.isDead()) return resolve();
            w.once("exit", () => resolve());
            this.send(s, { t: "stop" });
          }),
      ),
    );
  }

  /** Two steps over every serving worker: all prepare, then all commit; one refusal aborts all. */
  private async applyAll(args: ApplyArgs): Promise<void> {
    const targets = this.slots.filter((s) => s.serving);
    if (targets.length === 0)
      throw new WorkerLostError("no data-plane worker is running (all are restarting)");
    const seq = ++this.seq;
    const answers = await Promise.all(targets.map((s) => this.prepareOn(s, seq, args)));
    const refusal = answers.find((a) => a !== "prepared");
    if (refusal !== undefined) {
      await Promise.all(
        targets.map((s, i) =>
          answers[i] === "prepared" ? this.ask(s, { t: "abort", seq }, "aborted", seq) : null,
        ),
      );
      throw refusal === "lost"
        ? new WorkerLostError(
            "a data-plane worker exited during the apply; every worker keeps the old config",
          )
        : refusal;
    }
    const snapshot = args[0];
    // Before the commits: pins published under the new config already land in its tables.
    this.sticky.configure(snapshot.pools);
    await Promise.all(targets.map((s) => this.ask(s, { t: "commit", seq }, "committed", seq)));
    this.current = { args, applied: { version: snapshot.version, hash: snapshot.hash } };
    this.drainedBy.clear();
  }

  /** "prepared", "lost", or the worker's refusal as an error. */
  private async prepareOn(
    s: Slot,
    seq: number,
    args: ApplyArgs,
  ): Promise<"prepared" | "lost" | WorkerApplyError> {
    let refused: WorkerApplyError | undefined;
    const answer = await this.wait(
      s,
      (m) => {
        if (m === "lost") return "lost";
        if (m.t === "prepared" && m.seq === seq) return "prepared";
        if (m.t === "refused" && m.seq === seq) {
          refused = new WorkerApplyError(m.code, m.message, m.transient);
          return "refused";
        }
        return undefined;
      },
      () => this.send(s, { t: "prepare", seq, args }),
    );
    return answer === "refused" ? refused! : answer;
  }

  private async ask(s: Slot, m: ToWorker, reply: "committed" | "aborted", seq: number): Promise<void> {
    await this.wait(
      s,
      (x) => (x === "lost" || (x.t === reply && x.seq === seq) ? true : undefined),
      () => this.send(s, m),
    );
  }

  /** Resolves with the first non-undefined `pick` of a message from `s` (or of "lost" when it exits). */
  private wait<T>(s: Slot, pick: (m: FromWorker | "lost") => T | undefined, then: () => void): Promise<T> {
    return new Promise<T>((resolve) => {
      const waiter: Waiter = (m) => {
        const v = pick(m);
        if (v === undefined) return false;
        s.waiters.delete(waiter);
        resolve(v);
        return true;
      };
      if (!s.worker || s.worker.isDead()) {
        resolve(pick("lost") as T);
        return;
      }
      s.waiters.add(waiter);
      then();
    });
  }

  private broadcast(m: ToWorker): void {
    for (const s of this.slots) if (s.serving) this.send(s, m);
  }

  private send(s: Slot, m: ToWorker): void {
    try {
      s.worker?.send(m);
    } catch (e) {
      // The channel closed under us: the exit handler restarts the worker.
      this.opts.log.warn("could not reach data-plane worker", { worker: s.index, error: errorMessage(e) });
    }
  }

  /** Forks the worker of `s`; resolves once it is up and, if a snapshot serves, serves it too. */
  private fork(s: Slot): Promise<void> {
    const worker = cluster.fork({
      [WORKER_INDEX_ENV]: String(s.index),
      [WORKER_COUNT_ENV]: String(this.slots.length),
    });
    s.worker = worker;
    s.serving = false;
    s.alive = false;
    s.stats = undefined;
    s.cpuMicros = 0;
    s.startedAt = Date.now();
    s.lastBeat = Date.now();
    worker.on("message", (m: unknown) => {
      if (isFromWorker(m)) this.onMessage(s, m);
    });
    worker.once("exit", (code, signal) => this.onExit(s, worker, code, signal));
    return new Promise((resolve) => {
      s.waiters.add((m) => {
        if (m === "lost") {
          resolve();
          return true;
        }
        if (m.t !== "up") return false;
        s.alive = true;
        s.lastBeat = Date.now();
        // Behind any apply in progress, so the worker gets the snapshot the others end up with.
        const join = this.queue.run(() => this.catchUp(s, worker));
        join.then(resolve, resolve);
        return true;
      });
    });
  }

  /** A (re)started worker serves the current snapshot and the leader's verdicts before it counts as serving. */
  private async catchUp(s: Slot, worker: Worker): Promise<void> {
    if (s.worker !== worker || worker.isDead()) return;
    for (const [method, args] of this.calls) {
      const r = await this.callOn(s, method, args);
      if (r !== undefined) {
        this.opts.log.error(`restarted data-plane worker refused ${method}; restarting it`, {
          worker: s.index,
        });
        s.killedFor = "refused";
        worker.process.kill("SIGKILL");
        return;
      }
    }
    const cur = this.current;
    if (cur) {
      const seq = ++this.seq;
      const answer = await this.prepareOn(s, seq, cur.args);
      if (answer !== "prepared") {
        this.opts.log.error("restarted data-plane worker refused the serving snapshot; restarting it", {
          worker: s.index,
          version: cur.applied.version,
          reason: answer === "lost" ? "exited" : answer.message,
        });
        s.killedFor = "refused";
        worker.process.kill("SIGKILL");
        return;
      }
      await this.ask(s, { t: "commit", seq }, "committed", seq);
      if (s.index !== 0 && this.verdicts.size > 0)
        this.send(s, { t: "verdicts", verdicts: [...this.verdicts.values()] });
      // In the same tick as `serving` below, so no pin broadcast falls between the two.
      for (const [pool, pins] of this.sticky.all(monotonicNow())) {
        for (let i = 0; i < pins.length; i += PIN_CHUNK)
          this.send(s, { t: "pins", pool, pins: pins.slice(i, i + PIN_CHUNK) });
      }
    }
    if (s.worker === worker && !worker.isDead()) s.serving = true;
  }

  private onMessage(s: Slot, m: FromWorker): void {
    for (const w of [...s.waiters]) if (w(m)) break;
    switch (m.t) {
      case "beat": {
        const now = Date.now();
        if (s.cpuMicros > 0)
          s.cpuPercent =
            Math.round(((m.cpuMicros - s.cpuMicros) / 10 / Math.max(1, now - s.lastBeat)) * 10) / 10;
        s.cpuMicros = m.cpuMicros;
        s.loopDelayMs = Math.round(m.loopDelayMs * 10) / 10;
        s.lastBeat = now;
        s.stats = m.stats;
        return;
      }
      case "verdicts":
        if (s.index !== 0) return;
        for (const v of m.verdicts) this.verdicts.set(v.id, v);
        for (const other of this.slots) if (other !== s && other.serving) this.send(other, m);
        return;
      case "health":
        this.onWorkerHealth(s, m.event);
        return;
      case "pin": {
        const pin = this.sticky.pin(m.pool, m.client, m.backend, m.replaced, monotonicNow());
        if (pin) this.broadcast({ t: "pins", pool: m.pool, pins: [pin] });
        return;
      }
      case "touch": {
        const pins = this.sticky.touch(m.pool, m.clients, monotonicNow());
        if (pins.length > 0) this.broadcast({ t: "pins", pool: m.pool, pins });
        return;
      }
    }
  }

  /**
   * Health verdicts and ejections come from the leading worker (the others adopt its verdicts and would
   * repeat them); a backend is drained once every serving worker has reported it drained.
   */
  private onWorkerHealth(s: Slot, e: HealthEvent): void {
    if (e.state !== "drained") {
      if (s.index === 0) this.events.emit(e);
      return;
    }
    const key = `${e.poolId}|${e.backendId}`;
    const by = this.drainedBy.get(key) ?? new Set<number>();
    by.add(s.index);
    this.drainedBy.set(key, by);
    if (this.slots.every((x) => !x.serving || by.has(x.index))) this.events.emit(e);
  }

  private onExit(s: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (s.worker !== worker) return;
    for (const w of [...s.waiters]) w("lost");
    s.waiters.clear();
    if (s.stats)
      this.departed = mergeStats(
        [withoutGauges(s.stats), ...(this.departed ? [this.departed] : [])],
        undefined,
      );
    s.stats = undefined;
    s.serving = false;
    s.alive = false;
    s.worker = undefined;
    if (this.stopping) return;
    s.restarts++;
    s.lastRestart = {
      at: new Date().toISOString(),
      cause: s.killedFor ?? "exited",
      ...(code !== null ? { exitCode: code } : {}),
      ...(signal !== null ? { signal } : {}),
    };
    s.killedFor = undefined;
    if (Date.now() - s.startedAt > HEALTHY_RUN_MS) s.attempt = 0;
    const delay = backoffDelay(s.attempt++, this.backoff);
    this.opts.log.warn("data-plane worker exited; restarting it", {
      worker: s.index,
      pid: worker.process.pid,
      code,
      signal,
      restarts: s.restarts,
      delayMs: delay,
    });
    setTimeout(() => {
      if (!this.stopping) void this.fork(s);
    }, delay).unref();
  }

  /** A worker whose heartbeat is late has a stuck event loop: kill it, the exit handler restarts it. */
  private checkStalls(): void {
    const now = Date.now();
    for (const s of this.slots) {
      const w = s.worker;
      if (!w || !s.alive || w.isDead() || now - s.lastBeat < this.opts.stallMs) continue;
      s.stalls++;
      s.lastBeat = now; // one kill per stall
      s.killedFor = "stalled";
      this.opts.log.warn("data-plane worker is stuck (no heartbeat); killing it", {
        worker: s.index,
        pid: w.process.pid,
        silentMs: this.opts.stallMs,
      });
      w.process.kill("SIGKILL");
    }
  }
}
