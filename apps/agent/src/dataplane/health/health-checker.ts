import { request } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { ActiveHealth, type HealthState } from "@fulcrum/balancer";
import { type HealthCheck, isGrpcServiceName, isOriginForm } from "@fulcrum/protocol";
import { errorMessage } from "../../errors";
import { guarded } from "../../guard";
import type { Logger } from "../../log";
import { upstreamKey } from "../pools/backend-state";
import { type TlsOrigin, upstreamTlsError } from "../pools/backend-tls";
import { probeGrpc } from "./grpc-probe";

export type HealthChange = (
  checker: HealthChecker,
  to: "up" | "down",
  from: HealthState,
  reason: string,
) => void;

const MAX_BODY_BYTES = 64 * 1024;

/**
 * Who runs the probes when several data-plane workers serve one node
 * (workers/): the leading worker probes and publishes each verdict; the
 * others probe nothing and adopt the verdicts they are sent, so a backend sees
 * the same check traffic with 1 or N workers. Alone: probe, publish nothing.
 */
export type HealthRole =
  | { kind: "alone" }
  | { kind: "lead"; publish: (checkerId: string, state: "up" | "down", reason: string) => void }
  | { kind: "follow" };

/**
 * Active checks of one backend address with one set of settings. Shared by
 * every pool that lists the address with identical healthCheck settings; a
 * pool with other settings gets its own checker (and its own verdict).
 * Rise/fall come from the balancer's ActiveHealth: a new backend starts
 * "unknown" and serves; its first success makes it "up" (no event), `fall`
 * failures make it "down".
 */
export class HealthChecker {
  private readonly machine: ActiveHealth;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = true;
  lastReason = "";

  constructor(
    readonly id: string,
    readonly address: string,
    readonly port: number,
    readonly settings: HealthCheck,
    initial: HealthState,
    private readonly onChange: HealthChange,
    private readonly rng: () => number,
    log: Logger,
    /** The pool's TLS to the backend: checks handshake (and verify) exactly like traffic does. */
    readonly tls: TlsOrigin | undefined = undefined,
    private readonly role: HealthRole = { kind: "alone" },
  ) {
    this.machine = new ActiveHealth({ rise: settings.rise, fall: settings.fall, initial });
    this.tick = guarded(log, `health check of ${this.key}`, () => this.runOnce());
  }

  /** The timer callback: a bug in one check is logged, and that check goes on (see runOnce). */
  private readonly tick: () => void;

  get key(): string {
    return upstreamKey(this);
  }

  get state(): HealthState {
    return this.machine.state;
  }

  get healthy(): boolean {
    return this.machine.healthy;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    if (this.role.kind !== "follow") this.schedule();
  }

  /** A follower takes the leader's verdict; transitions are reported as if observed here. */
  adopt(to: "up" | "down", reason: string): void {
    const t = this.machine.adopt(to);
    if (to === "down") this.lastReason = reason;
    if (t && !(t.from === "unknown" && t.to === "up")) this.onChange(this, t.to, t.from, reason);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** interval ± 10 %, so checks of many backends do not fire in lock step. */
  private schedule(): void {
    if (this.stopped) return;
    const base = this.settings.intervalMs;
    const delay = Math.max(1, Math.round(base * (0.9 + 0.2 * this.rng())));
    this.timer = setTimeout(this.tick, delay);
    this.timer.unref();
  }

  /** A probe that throws counts as a failed check; the next one is scheduled whatever happens. */
  private async runOnce(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = true;
    let reason: string | undefined;
    try {
      reason = await this.probe();
    } catch (e) {
      reason = `check could not run: ${errorMessage(e)}`;
    } finally {
      this.running = false;
    }
    if (this.stopped) return;
    try {
      const ok = reason === undefined;
      if (reason !== undefined) this.lastReason = reason;
      const t = this.machine.observe(ok);
      if (t && this.role.kind === "lead") this.role.publish(this.id, t.to, reason ?? "check passed");
      if (t && !(t.from === "unknown" && t.to === "up")) {
        this.onChange(this, t.to, t.from, reason ?? "check passed");
      }
    } finally {
      this.schedule();
    }
  }

  private probe(): Promise<string | undefined> {
    const s = this.settings;
    if (s.type === "tcp") return this.probeTcp();
    if (s.type === "grpc") {
      const service = s.grpcService ?? "";
      // The schema refuses such a name; a snapshot that bypassed it fails its checks instead.
      if (!isGrpcServiceName(service)) return Promise.resolve("invalid gRPC health-check service name");
      return probeGrpc({
        address: this.address,
        port: this.port,
        key: this.key,
        tls: this.tls,
        service,
        timeoutMs: s.timeoutMs,
      });
    }
    return this.probeHttp();
  }

  /** TLS options for this backend, with the session kept for resumption like traffic's. */
  private tlsOptions() {
    const tls = this.tls!;
    const opts = tls.connectOptions(this.key, this.address);
    return { opts, remember: (s: Buffer) => tls.rememberSession(this.key, opts.servername || undefined, s) };
  }

  /** Resolves undefined on success, else the failure reason. With TLS: the handshake must pass too. */
  private probeTcp(): Promise<string | undefined> {
    return new Promise((resolve) => {
      let s: Socket;
      if (this.tls === undefined) s = connect({ host: this.address, port: this.port });
      else {
        const { opts, remember } = this.tlsOptions();
        s = tlsConnect({ ...opts, host: this.address, port: this.port });
        s.on("session", remember);
      }
      const what = this.tls === undefined ? "tcp connect" : "tls connect";
      const timer = setTimeout(() => {
        s.destroy();
        resolve(`${what} timed out after ${this.settings.timeoutMs} ms`);
      }, this.settings.timeoutMs);
      s.once(this.tls === undefined ? "connect" : "secureConnect", () => {
        clearTimeout(timer);
        resolve(undefined);
        if (this.tls === undefined) return s.destroy();
        // A TLS 1.3 session ticket arrives after the handshake: a graceful close lets it in, for resumption.
        s.end();
        setTimeout(() => s.destroy(), this.settings.timeoutMs).unref();
      });
      s.once("error", (e) => {
        clearTimeout(timer);
        s.destroy();
        const err = this.tls === undefined ? e : upstreamTlsError(e, this.key);
        resolve(`${what} failed: ${errorMessage(err)}`);
      });
    });
  }

  private probeHttp(): Promise<string | undefined> {
    const hc = this.settings;
    // The schema refuses such a path; a snapshot that bypassed it fails its checks instead of throwing.
    if (!isOriginForm(hc.path))
      return Promise.resolve("invalid health-check path (not an origin-form target)");
    return new Promise((resolve) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      let req: ReturnType<typeof request> | undefined;
      const done = (r: string | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req?.destroy();
        resolve(r);
      };
      let handshaken = this.tls === undefined;
      try {
        const base = {
          host: this.address,
          port: this.port,
          method: hc.method,
          path: hc.path,
          agent: false as const,
          headers: { host: this.key, "user-agent": "fulcrum-agent health check", connection: "close" },
        };
        if (this.tls === undefined) req = request(base);
        else {
          const { opts, remember } = this.tlsOptions();
          req = httpsRequest({ ...base, ...opts });
          req.once("socket", (s) => {
            s.on("session", remember);
            s.once("secureConnect", () => {
              handshaken = true;
            });
          });
        }
      } catch (e) {
        return done(`http check could not be sent: ${errorMessage(e)}`);
      }
      timer = setTimeout(() => done(`http check timed out after ${hc.timeoutMs} ms`), hc.timeoutMs);
      req.once("error", (e) => {
        const err = handshaken ? e : upstreamTlsError(e, this.key);
        done(`${this.tls === undefined ? "http" : "https"} check failed: ${errorMessage(err)}`);
      });
      req.once("response", (res) => {
        const status = res.statusCode ?? 0;
        const [lo, hi] = hc.expectStatus;
        if (status < lo || status > hi) {
          res.resume();
          return done(`http check answered ${status}, expected ${lo}-${hi}`);
        }
        if (hc.expectBody === undefined || hc.method === "HEAD") {
          res.resume();
          return done(undefined);
        }
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          if (body.length < MAX_BODY_BYTES) body += c;
          if (body.includes(hc.expectBody!)) done(undefined);
        });
        res.once("end", () => done(body.includes(hc.expectBody!) ? undefined : "http check body mismatch"));
        res.once("error", (e) => done(`http check failed: ${errorMessage(e)}`));
      });
      req.end();
    });
  }
}

/**
 * Checkers by (address:port, settings). Compile asks for the checkers a
 * snapshot needs (`prepare`); only `commit` starts new ones and stops unused
 * ones, so a rejected snapshot leaves the running checks alone.
 */
export class HealthCheckers {
  private readonly live = new Map<string, HealthChecker>();
  private pending = new Map<string, HealthChecker>();

  constructor(
    private readonly onChange: HealthChange,
    private readonly rng: () => number,
    private readonly log: Logger,
    private readonly role: HealthRole = { kind: "alone" },
  ) {}

  /** Follower: the leader's verdict for checker `id` (unknown ids: a snapshot not applied here yet; dropped). */
  adopt(id: string, to: "up" | "down", reason: string): void {
    (this.live.get(id) ?? this.pending.get(id))?.adopt(to, reason);
  }

  /** Leader: every live verdict other than "unknown", for a worker that starts after they were reached. */
  verdicts(): { id: string; state: "up" | "down"; reason: string }[] {
    return [...this.live.values()]
      .filter((c) => c.state !== "unknown")
      .map((c) => ({ id: c.id, state: c.state as "up" | "down", reason: c.lastReason || "check passed" }));
  }

  prepare(address: string, port: number, settings: HealthCheck, tls?: TlsOrigin): HealthChecker | undefined {
    if (settings.type === "none") return undefined;
    const key = upstreamKey({ address, port });
    const id = `${key}|${JSON.stringify(settings)}${tls ? `|tls:${tls.key}` : ""}`;
    const existing = this.live.get(id) ?? this.pending.get(id);
    if (existing) return existing;
    // New settings for a known address inherit its verdict: a down backend stays down until proven up.
    let initial: HealthState = "unknown";
    for (const c of this.live.values()) if (c.key === key && c.state === "down") initial = "down";
    const c = new HealthChecker(
      id,
      address,
      port,
      settings,
      initial,
      this.onChange,
      this.rng,
      this.log,
      tls,
      this.role,
    );
    this.pending.set(id, c);
    return c;
  }

  commit(used: ReadonlySet<HealthChecker>): void {
    for (const [id, c] of this.pending) if (used.has(c)) this.live.set(id, c);
    this.pending = new Map();
    for (const [id, c] of this.live) {
      if (used.has(c)) c.start();
      else {
        c.stop();
        this.live.delete(id);
      }
    }
  }

  abort(): void {
    this.pending = new Map();
  }

  stopAll(): void {
    for (const c of this.live.values()) c.stop();
    this.live.clear();
  }
}
