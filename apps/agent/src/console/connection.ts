import {
  AGENT_GATEWAY_PATH,
  type AgentMessageType,
  type AgentPayload,
  CloseCode,
  type ConsoleMessage,
  closeCodeFacts,
  closeCodeForHttpStatus,
  decodeConsoleMessage,
  encodeAgentMessage,
  type HealthEvent,
  MAX_AGENT_FRAME_BYTES,
  MAX_STATS_POINTS_PER_MESSAGE,
  type StatsPoint,
  SUPPORTED_PROTOCOL_VERSIONS,
  type TicketKeyRing,
  type WorkersReport,
} from "@fulcrum/protocol";
import WebSocket from "ws";
import { ConsoleRefusedError, errorCode, errorMessage } from "../errors";
import type { Logger } from "../log";
import { Ring } from "../metrics/ring";
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF, sleep } from "../retry/backoff";
import { type ApplySnapshot, refusedSnapshotVersion } from "../snapshot-applier";
import { fatalClose, retryAfterMs } from "./close-handling";
import { type ConsoleTls, consoleCertProblem } from "./console-tls";
import { consoleEndpoint } from "./endpoints";
import { rateLimitedDelay } from "./rate-limited-delay";
import { packStats } from "./stats-pack";

export type ApplyOutcome = { ok: true; version: number; hash: string } | { ok: false; reason: string };

export interface ConnectionOptions {
  consoleUrl: URL;
  /** How the console's certificate is verified (wss://); default: Node's roots. */
  tls?: ConsoleTls;
  credential: string;
  log: Logger;
  hello: () => AgentPayload<"hello">;
  appliedVersion: () => number | null;
  /** The node's data-plane workers, sent with every heartbeat; absent: the heartbeat has no `workers`. */
  workers?: () => WorkersReport;
  applySnapshot: ApplySnapshot;
  /** The cluster's ticket-key ring (Engine.setTicketKeys); absent: the hello does not offer the capability. */
  applyTicketKeys?: (ring: TicketKeyRing) => Promise<void>;
  backoff?: BackoffOptions;
  handshakeTimeoutMs?: number;
  /** The engine's health events (see Engine.onHealthEvent); returns the unsubscribe function. */
  subscribeHealth?: (listener: (event: HealthEvent) => void) => () => void;
  /** Events are sent in batches at most this often (default 250 ms). */
  healthBatchMs?: number;
  /** Stats points as they are sampled (see StatsSampler.subscribe); returns the unsubscribe function. */
  subscribeStats?: (listener: (point: StatsPoint) => void) => () => void;
  /** Points kept while no session is welcomed; the oldest go first (default 900: 15 min at 1 Hz). */
  statsBufferPoints?: number;
}

export const DEFAULT_STATS_BUFFER_POINTS = 900;

type StatsSend = (points: StatsPoint[], done: (ok: boolean) => void) => void;

interface SessionEnd {
  code: number;
  reason: string;
  welcomed: boolean;
  /** The console's Retry-After, when it refused the handshake with one. */
  retryAfterMs?: number;
}

const MAX_FRAME_BYTES = 32 * 1024 * 1024;
/** The protocol's cap per health message; also what is kept while the console is unreachable. */
const MAX_HEALTH_EVENTS = 1000;
/** Backends whose last reported health state is remembered (edge-triggering); past this it starts over. */
const MAX_HEALTH_KEYS = 50_000;
/** Oversize stats points are logged at most this often (with the count since the last line). */
const OVERSIZE_LOG_INTERVAL_MS = 60_000;
const started = Date.now();

/**
 * The agent's one connection to the console: hello, then serve snapshots and
 * pings, forever; reconnects with jittered back-off on anything but a refusal.
 */
export class ConsoleConnection {
  private readonly abort = new AbortController();
  private socket: WebSocket | undefined;
  /** Health events not sent yet: batched, and kept (newest 1000) while no session is welcomed. */
  private pendingHealth: HealthEvent[] = [];
  private droppedHealth = 0;
  /** The last state queued per backend: an event repeating it is no news and is not sent. */
  private readonly healthState = new Map<string, HealthEvent["state"]>();
  private healthTimer: NodeJS.Timeout | undefined;
  private sendHealth: ((events: HealthEvent[]) => void) | undefined;
  /** Sends an ack or nack on the welcomed session; unset between sessions. */
  private sendOutcome: ((version: number, r: ApplyOutcome) => void) | undefined;
  private readonly unsubscribeHealth: (() => void) | undefined;
  /** Stats points not sent yet; while connected this holds at most what arrived during the last send. */
  private readonly pendingStats: Ring<StatsPoint>;
  /** The batch handed to the socket and not yet written; put back in front if the session ends first. */
  private statsInFlight: StatsPoint[] | undefined;
  private sendStats: StatsSend | undefined;
  /** Bumped when a session ends, so a late write callback of the old socket is ignored. */
  private statsSession = 0;
  private readonly unsubscribeStats: (() => void) | undefined;
  /** Points too large for any frame, dropped since the last log line about them. */
  private oversizeStats = 0;
  private oversizeStatsLargest = 0;
  private oversizeLoggedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: ConnectionOptions) {
    this.unsubscribeHealth = opts.subscribeHealth?.((e) => this.queueHealth(e));
    this.pendingStats = new Ring(Math.max(1, opts.statsBufferPoints ?? DEFAULT_STATS_BUFFER_POINTS));
    this.unsubscribeStats = opts.subscribeStats?.((p) => {
      this.pendingStats.push(p);
      this.pumpStats();
    });
  }

  /**
   * Sends the oldest pending points, at most MAX_STATS_POINTS_PER_MESSAGE and
   * STATS_MESSAGE_BYTE_BUDGET per message (see stats-pack.ts), and one message
   * at a time: the next goes once the socket has taken the previous one, so a
   * backlog drains in order and live points queue behind it. A point too large
   * for any frame is dropped here: sent, it would close the connection (1009),
   * come back and close the next one too.
   */
  private pumpStats(): void {
    const send = this.sendStats;
    if (send === undefined || this.statsInFlight !== undefined || this.pendingStats.length === 0) return;
    const dropped = this.pendingStats.takeDropped();
    if (dropped > 0) {
      this.opts.log.warn("stats points dropped while the console was unreachable", { dropped });
    }
    let batch: StatsPoint[] = [];
    // Bounded: each round removes at least one point (sent or oversize).
    while (batch.length === 0 && this.pendingStats.length > 0) {
      const pack = packStats(this.pendingStats.shift(MAX_STATS_POINTS_PER_MESSAGE));
      if (pack.rest.length > 0) this.pendingStats.unshift(pack.rest);
      if (pack.oversize > 0) this.countOversize(pack.oversize, pack.largestOversizeBytes);
      batch = pack.batch;
    }
    if (batch.length === 0) return;
    this.statsInFlight = batch;
    const session = this.statsSession;
    send(batch, (ok) => {
      if (session !== this.statsSession) return; // that session ended and put the batch back
      this.statsInFlight = undefined;
      if (!ok) {
        this.pendingStats.unshift(batch);
        return;
      }
      this.pumpStats();
    });
  }

  private countOversize(n: number, largestBytes: number): void {
    this.oversizeStats += n;
    this.oversizeStatsLargest = Math.max(this.oversizeStatsLargest, largestBytes);
    const now = Date.now();
    if (now - this.oversizeLoggedAt < OVERSIZE_LOG_INTERVAL_MS) return;
    this.oversizeLoggedAt = now;
    this.opts.log.warn("stats points too large for a frame to the console dropped", {
      dropped: this.oversizeStats,
      largestBytes: this.oversizeStatsLargest,
      frameCapBytes: MAX_AGENT_FRAME_BYTES,
    });
    this.oversizeStats = 0;
    this.oversizeStatsLargest = 0;
  }

  /** The session ended: nothing more is sent until the next welcome, and an unwritten batch goes back. */
  private endStats(): void {
    this.sendStats = undefined;
    this.statsSession++;
    if (this.statsInFlight) {
      this.pendingStats.unshift(this.statsInFlight);
      this.statsInFlight = undefined;
    }
  }

  private queueHealth(e: HealthEvent): void {
    const key = `${e.poolId}\u0000${e.backendId}`;
    if (this.healthState.get(key) === e.state) return;
    if (this.healthState.size >= MAX_HEALTH_KEYS && !this.healthState.has(key)) this.healthState.clear();
    this.healthState.set(key, e.state);
    this.pendingHealth.push(e);
    if (this.pendingHealth.length > MAX_HEALTH_EVENTS) {
      this.pendingHealth.shift();
      this.droppedHealth++;
    }
    if (this.healthTimer === undefined && this.sendHealth !== undefined) {
      this.healthTimer = setTimeout(() => this.flushHealth(), this.opts.healthBatchMs ?? 250);
      this.healthTimer.unref();
    }
  }

  private flushHealth(): void {
    this.healthTimer = undefined;
    if (this.sendHealth === undefined || this.pendingHealth.length === 0) return;
    if (this.droppedHealth > 0) {
      this.opts.log.warn("health events dropped while the console was unreachable", {
        dropped: this.droppedHealth,
      });
      this.droppedHealth = 0;
    }
    const events = this.pendingHealth;
    this.pendingHealth = [];
    this.sendHealth(events);
  }

  /** Resolves after stop(); rejects with ConsoleRefusedError when the console says to give up. */
  async run(): Promise<void> {
    const backoff = this.opts.backoff ?? DEFAULT_BACKOFF;
    let attempt = 0;
    while (!this.abort.signal.aborted) {
      const end = await this.session();
      if (this.abort.signal.aborted) return;
      const fatal = fatalClose(end.code);
      if (fatal) {
        throw new ConsoleRefusedError(
          `${fatal.message} (close ${end.code}${end.reason ? `: ${end.reason}` : ""})`,
          end.code,
        );
      }
      if (closeCodeFacts(end.code)?.agent === "back_off") {
        // Reconnecting sooner would only be refused (HTTP 429): wait what the console asks, at least 30 s.
        const delay = rateLimitedDelay(end.retryAfterMs);
        this.opts.log.warn(
          "the console closed this agent's connection for sending more messages than it allows (rate limited); waiting before reconnecting",
          { code: end.code, reason: end.reason, inMs: delay },
        );
        await sleep(delay, this.abort.signal);
        continue;
      }
      if (end.welcomed) attempt = 0;
      const delay = backoffDelay(attempt++, backoff);
      this.opts.log.info("console connection lost; reconnecting", {
        code: end.code,
        reason: end.reason,
        inMs: delay,
      });
      await sleep(delay, this.abort.signal);
    }
  }

  /**
   * An outcome decided outside a snapshot message (a retried apply, see
   * snapshot-retry.ts): sent if a session is welcomed; else the next hello
   * carries the applied version.
   */
  /** What every heartbeat says: the applied version, uptime and (when the engine has them) the workers. */
  private heartbeat(): AgentPayload<"heartbeat"> {
    const workers = this.opts.workers?.();
    return {
      appliedVersion: this.opts.appliedVersion(),
      uptimeMs: Date.now() - started,
      ...(workers ? { workers } : {}),
    };
  }

  report(version: number, r: ApplyOutcome): void {
    this.sendOutcome?.(version, r);
  }

  stop(): void {
    this.abort.abort();
    this.unsubscribeHealth?.();
    this.unsubscribeStats?.();
    clearTimeout(this.healthTimer);
    this.socket?.close(1001, "agent shutting down");
  }

  private session(): Promise<SessionEnd> {
    const { log } = this.opts;
    const url = consoleEndpoint(this.opts.consoleUrl, AGENT_GATEWAY_PATH, true);
    return new Promise((resolve) => {
      let welcomed = false;
      let settled = false;
      let heartbeat: NodeJS.Timeout | undefined;
      let lastHeard = Date.now();
      const finish = (code: number, reason: string, retryAfter?: number) => {
        clearInterval(heartbeat);
        this.sendHealth = undefined;
        this.sendOutcome = undefined;
        if (settled) return;
        this.endStats();
        settled = true;
        this.socket = undefined;
        resolve({
          code,
          reason,
          welcomed,
          ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }),
        });
      };

      const ws = new WebSocket(url, {
        headers: { authorization: `Bearer ${this.opts.credential}` },
        handshakeTimeout: this.opts.handshakeTimeoutMs ?? 10_000,
        maxPayload: MAX_FRAME_BYTES,
        ...(this.opts.tls?.ca === undefined ? {} : { ca: this.opts.tls.ca }),
      });
      this.socket = ws;
      const send = <T extends AgentMessageType>(type: T, payload: AgentPayload<T>) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(encodeAgentMessage(type, payload));
      };
      // One ack or nack per version and reason: the same answer again tells the console nothing.
      let lastAnswer: string | undefined;
      const answer = (version: number, r: ApplyOutcome) => {
        const reason = r.ok ? "" : r.reason.slice(0, 4000);
        const key = r.ok ? `ack\u0000${r.version}` : `nack\u0000${version}\u0000${reason}`;
        if (key === lastAnswer) return;
        lastAnswer = key;
        if (r.ok) send("ack", { version: r.version, hash: r.hash });
        else send("nack", { version, reason });
      };

      ws.on("error", (e) => {
        // A certificate problem does not go away by itself: say what to do, loudly; the back-off still applies.
        const untrusted = consoleCertProblem(e, this.opts.tls ?? { ca: undefined, caFile: undefined });
        if (untrusted) log.error(untrusted, { code: "console_cert_untrusted", url: url.href });
        else log.warn("console connection error", { url: url.href, error: errorMessage(e) });
      });
      ws.on("unexpected-response", (_req, res) => {
        const code = closeCodeForHttpStatus(res.statusCode) ?? 1006;
        res.resume();
        ws.terminate();
        finish(code, `handshake answered HTTP ${res.statusCode}`, retryAfterMs(res.headers["retry-after"]));
      });
      ws.on("close", (code, reason) => finish(code, reason.toString()));
      ws.on("pong", () => {
        lastHeard = Date.now();
      });
      ws.on("open", () => {
        log.info("connected to console", { url: url.href });
        send("hello", this.opts.hello());
      });

      const onWelcome = (m: Extract<ConsoleMessage, { type: "welcome" }>) => {
        const p = m.payload;
        if (!SUPPORTED_PROTOCOL_VERSIONS.includes(p.protocolVersion)) {
          ws.close(CloseCode.protocolUnsupported, `agent speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(",")}`);
          finish(CloseCode.protocolUnsupported, `console chose protocol ${p.protocolVersion}`);
          return;
        }
        welcomed = true;
        log.info("welcomed by console", {
          agentId: p.agentId,
          clusterId: p.clusterId,
          heartbeatMs: p.heartbeatIntervalMs,
        });
        clearInterval(heartbeat);
        this.sendHealth = (events) => send("health", { events });
        this.sendOutcome = answer;
        // Events from while we were away go out now.
        this.flushHealth();
        // So do stats points, oldest first, in batches; then each new point as it is sampled.
        this.endStats();
        this.sendStats = (points, done) => {
          if (ws.readyState !== WebSocket.OPEN) return done(false);
          ws.send(encodeAgentMessage("stats", { points }), (err) => done(!err));
        };
        this.pumpStats();
        // Pings at the transport level catch a dead peer even if the console sends nothing for a while.
        heartbeat = setInterval(() => {
          if (Date.now() - lastHeard > 3 * p.heartbeatIntervalMs + 5_000) {
            log.warn("console stopped answering; dropping the connection");
            ws.terminate();
            return;
          }
          send("heartbeat", this.heartbeat());
          ws.ping();
        }, p.heartbeatIntervalMs);
        heartbeat.unref();
      };

      ws.on("message", (data, isBinary) => {
        lastHeard = Date.now();
        const raw = isBinary ? undefined : data.toString();
        const decoded =
          raw === undefined
            ? ({ ok: false, error: "binary frames are not part of the protocol" } as const)
            : decodeConsoleMessage(raw);
        if (!decoded.ok) {
          log.warn("invalid frame from console", { error: decoded.error });
          send("error", { code: "invalid_message", message: decoded.error });
          const version = raw === undefined ? undefined : refusedSnapshotVersion(raw);
          if (version !== undefined)
            answer(version, { ok: false, reason: `snapshot_invalid: ${decoded.error}` });
          return;
        }
        const m = decoded.message;
        switch (m.type) {
          case "welcome":
            return onWelcome(m);
          case "ping":
            return send("heartbeat", this.heartbeat());
          case "error":
            return log.warn("console reported an error", {
              code: m.payload.code,
              message: m.payload.message,
            });
          case "ticketKeys": {
            const apply = this.opts.applyTicketKeys;
            if (!apply) return;
            const generation = m.payload.generation;
            apply(m.payload).then(
              () => log.info("ticket keys in use", { generation }),
              (e: unknown) => {
                log.warn("ticket keys refused; the previous ones stay", {
                  generation,
                  error: errorMessage(e),
                });
                send("error", {
                  code: errorCode(e),
                  message: `ticket keys ${generation}: ${errorMessage(e)}`,
                });
              },
            );
            return;
          }
          case "snapshot": {
            const { snapshot, tlsMaterial, caBundles } = m.payload;
            this.opts
              .applySnapshot(snapshot, tlsMaterial, caBundles)
              .then((r) => answer(snapshot.version, r));
            return;
          }
        }
      });
    });
  }
}
