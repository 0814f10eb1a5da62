import type { PrismaClient } from "@fulcrum/db";
import {
  type AgentMessage,
  CloseCode,
  decodeAgentMessage,
  encodeConsoleMessage,
  SUPPORTED_PROTOCOL_VERSIONS,
  TICKET_KEYS_CAPABILITY,
  type WorkersReport,
} from "@fulcrum/protocol";
import type { RawData, WebSocket } from "ws";
import type { Logger } from "../logger";
import type { StatsSink } from "../metrics/sink";
import type { AgentLimits } from "./agent-limits";
import { AgentReports, storable } from "./agent-reports";
import type { AgentStatusUpdate, AgentStatusWriter } from "./agent-status-writer";
import { FrameLimiter } from "./frame-limiter";
import type { HealthEventBatcher } from "./health-event-batcher";
import { LogThrottle, logSafe } from "./log-throttle";
import type { SnapshotFrame } from "./snapshot-frames";

export const HEARTBEAT_INTERVAL_MS = 5000;
const HELLO_TIMEOUT_MS = 10_000;
/** An agent closed for flooding that does not answer the close frame is cut off after this. */
const CLOSE_GRACE_MS = 2000;
/**
 * Accepted frames are parsed in slices of about this long, yielding to other
 * I/O in between: one socket read can hold hundreds of frames, and parsing
 * them back to back would make page requests wait behind them.
 */
const SLICE_MS = 5;

export interface AgentIdentity {
  id: string;
  name: string;
  clusterId: string;
}

export interface AgentConnectionDeps {
  prisma: PrismaClient;
  log: Logger;
  stats: StatsSink;
  currentFrame: (clusterId: string) => Promise<SnapshotFrame>;
  /** The encoded `ticketKeys` message of the cluster's current ring; absent: none is sent. */
  ticketKeysFrame?: (clusterId: string) => Promise<string>;
  status: AgentStatusWriter;
  health: HealthEventBatcher;
  limits: AgentLimits;
  /** Returns whether `conn` was still the agent's current connection (not replaced by a newer one). */
  onClose: (conn: AgentConnection) => boolean;
  /** Called once when the connection is closed for flooding (the gateway refuses reconnects for a while). */
  onFlood: (conn: AgentConnection) => void;
}

/**
 * One connected agent: speaks the protocol and records what the agent reports.
 * Whatever the agent sends, the work per frame is bounded: frames over the
 * rate limits are dropped before they are parsed, reports that are no news
 * write nothing, and log lines about the agent are rate limited.
 */
export class AgentConnection {
  private helloDone = false;
  /** The agent's hello offered TICKET_KEYS_CAPABILITY (older agents would answer the message with an error). */
  private takesTicketKeys = false;
  /** Hash of the last snapshot sent or reported applied, so unchanged configs are not re-sent. */
  private lastHash: string | null = null;
  private readonly helloTimer: NodeJS.Timeout;
  private killTimer: NodeJS.Timeout | undefined;
  /** Set while reading is paused to hold the byte rate. */
  private resumeTimer: NodeJS.Timeout | undefined;
  /** Set once the console closes the connection: nothing more the agent sends is looked at. */
  private closing = false;
  private readonly limiter: FrameLimiter;
  private readonly reports: AgentReports;
  private readonly logs: LogThrottle;
  /** Frames accepted and not parsed yet, oldest first (at most a burst: the limiter let them in). */
  private inbox: string[] = [];
  private inboxHead = 0;
  private draining = false;
  /** Restart count per worker index as of the last heartbeat (logRestarts); undefined before the first. */
  private workerRestarts: Map<number, number> | undefined;

  constructor(
    readonly agent: AgentIdentity,
    private readonly ws: WebSocket,
    private readonly deps: AgentConnectionDeps,
  ) {
    this.limiter = new FrameLimiter(deps.limits);
    this.reports = new AgentReports(deps.limits);
    this.logs = new LogThrottle(deps.log);
    this.helloTimer = setTimeout(
      () => this.close(CloseCode.badHello, "no hello within 10 s"),
      HELLO_TIMEOUT_MS,
    );
    ws.on("message", (data, isBinary) => this.onRaw(data, isBinary));
    ws.on("close", () => {
      clearTimeout(this.helloTimer);
      clearTimeout(this.killTimer);
      clearTimeout(this.resumeTimer);
      // A connection replaced by a newer one closes after that one's hello: recording its
      // disconnect would mark the agent down for other consoles (domain/agent-liveness.ts).
      if (this.deps.onClose(this)) this.record({ disconnectedAt: new Date() });
      const suppressed = this.logs.pending();
      if (Object.keys(suppressed).length > 0) {
        this.deps.log.warn("agent log lines suppressed", { agent: agent.name, suppressed });
      }
    });
  }

  get ready(): boolean {
    return this.helloDone;
  }

  close(code: number, reason: string): void {
    this.closing = true;
    this.ws.close(code, reason);
  }

  /** Sends the cluster's current snapshot unless the agent already has it. */
  async pushCurrent(): Promise<void> {
    if (!this.helloDone || this.closing) return;
    const current = await this.deps.currentFrame(this.agent.clusterId);
    if (current.hash === this.lastHash) return;
    this.lastHash = current.hash;
    this.reports.sent(current.version);
    this.send(current.frame);
  }

  /**
   * Sends the cluster's ticket-key ring (after the welcome, before the
   * snapshot, and at each rotation). A failure to load it is logged; the
   * agent keeps the ring it has and the snapshot still goes out.
   */
  async pushTicketKeys(): Promise<void> {
    if (!this.helloDone || this.closing || !this.takesTicketKeys || !this.deps.ticketKeysFrame) return;
    try {
      this.send(await this.deps.ticketKeysFrame(this.agent.clusterId));
    } catch (err) {
      this.logs.write("error", "ticket-keys", "could not load the cluster's ticket keys", {
        agent: this.agent.name,
        err: logSafe(err instanceof Error ? err.message : String(err)),
      });
    }
  }

  private send(frame: string): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(frame);
  }

  /** Every frame passes here first: the rate limits are checked before anything is parsed. */
  private onRaw(data: RawData, isBinary: boolean): void {
    if (this.closing) return;
    const verdict = this.limiter.admit();
    if (verdict === "close") {
      this.closeForFlooding();
      return;
    }
    if (verdict === "drop") {
      const line = this.logs.allow("dropped");
      if (line.ok) {
        this.deps.log.warn("agent over its rate limit: frames dropped", {
          agent: this.agent.name,
          dropped: this.limiter.takeDropped(),
        });
      }
      return;
    }
    this.holdByteRate(rawLength(data));
    if (isBinary) {
      this.refuse("binary frames are not part of the protocol");
      return;
    }
    this.inbox.push(data.toString());
    if (!this.draining) {
      this.draining = true;
      setImmediate(() => this.drain());
    }
  }

  /** Parses queued frames in order, for about SLICE_MS at a time. */
  private drain(): void {
    const until = performance.now() + SLICE_MS;
    do {
      if (this.closing || this.inboxHead >= this.inbox.length) break;
      const raw = this.inbox[this.inboxHead++]!;
      void this.onFrame(raw).catch((err: unknown) =>
        this.logs.write("error", "failed", "agent frame failed", { agent: this.agent.name, err }),
      );
    } while (performance.now() < until);
    if (!this.closing && this.inboxHead < this.inbox.length) {
      setImmediate(() => this.drain());
      return;
    }
    this.inbox = [];
    this.inboxHead = 0;
    this.draining = false;
  }

  /** Over the byte rate, the socket is not read until the rate is met again (TCP pushes back on the agent). */
  private holdByteRate(bytes: number): void {
    const pauseMs = this.limiter.pauseFor(bytes);
    if (pauseMs <= 0 || this.resumeTimer !== undefined) return;
    this.logs.write("warn", "bytes", "agent over its byte rate: reading paused", {
      agent: this.agent.name,
      pauseMs: Math.ceil(pauseMs),
    });
    this.ws.pause();
    this.resumeTimer = setTimeout(() => {
      this.resumeTimer = undefined;
      // Also when closing: the peer's close frame must be read for the closing handshake to end.
      this.ws.resume();
    }, pauseMs);
    this.resumeTimer.unref();
  }

  private closeForFlooding(): void {
    const { limits } = this.deps;
    const retryInS = Math.ceil(limits.floodBackoffMs / 1000);
    this.deps.log.warn("agent closed: it kept sending more than its limits allow", {
      agent: this.agent.name,
      dropped: this.limiter.takeDropped(),
      framesPerSecond: limits.framesPerSecond,
      bytesPerSecond: limits.bytesPerSecond,
      refusedForS: retryInS,
    });
    this.deps.onFlood(this);
    this.close(CloseCode.rateLimited, `rate limited: too many frames; retry in ${retryInS} s`);
    // A flooder need not answer the close frame; it does not get to keep the socket.
    this.killTimer = setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS);
    this.killTimer.unref();
  }

  /** Answers a malformed frame with an error, as often as the log line about it is written. */
  private refuse(error: string, code = "INVALID_MESSAGE"): void {
    const written = this.logs.write("warn", code, "invalid agent message", {
      agent: this.agent.name,
      error: logSafe(error),
    });
    if (written) this.send(encodeConsoleMessage("error", { code, message: error.slice(0, 500) }));
  }

  private async onFrame(raw: string): Promise<void> {
    const decoded = decodeAgentMessage(raw);
    if (!decoded.ok) {
      this.refuse(decoded.error);
      return;
    }
    await this.onMessage(decoded.message);
  }

  private async onMessage(msg: AgentMessage): Promise<void> {
    if (msg.type !== "hello" && !this.helloDone) {
      this.refuse("send hello first", "HELLO_FIRST");
      return;
    }
    switch (msg.type) {
      case "hello": {
        if (this.helloDone) {
          // Once per connection: a repeated hello would re-record and re-push for nothing.
          this.refuse("hello was already sent on this connection", "HELLO_AGAIN");
          return;
        }
        const common = msg.payload.protocolVersions.filter((v) => SUPPORTED_PROTOCOL_VERSIONS.includes(v));
        if (common.length === 0) {
          const message = `this console speaks protocol ${SUPPORTED_PROTOCOL_VERSIONS.join(", ")}; the agent speaks ${msg.payload.protocolVersions.slice(0, 10).join(", ")}. Upgrade the older side.`;
          this.send(encodeConsoleMessage("error", { code: "PROTOCOL_UNSUPPORTED", message }));
          this.close(CloseCode.protocolUnsupported, "protocol version unsupported");
          return;
        }
        clearTimeout(this.helloTimer);
        this.helloDone = true;
        this.takesTicketKeys = msg.payload.capabilities.includes(TICKET_KEYS_CAPABILITY);
        this.lastHash = msg.payload.appliedHash;
        this.record({
          connectedAt: new Date(),
          lastHeartbeatAt: new Date(),
          softwareVersion: storable(msg.payload.softwareVersion),
          appliedVersion: msg.payload.appliedVersion,
          // Until this connection's first heartbeat says otherwise: an agent restarted with other
          // --workers, or an older one that sends none, must not show the previous run's workers.
          workers: null,
        });
        this.send(
          encodeConsoleMessage("welcome", {
            agentId: this.agent.id,
            clusterId: this.agent.clusterId,
            protocolVersion: Math.max(...common),
            heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
          }),
        );
        // The ring first: TLS listeners the snapshot creates start with the cluster's key.
        await this.pushTicketKeys();
        await this.pushCurrent();
        return;
      }
      case "ack": {
        const answer = this.reports.answer("ack", msg.payload.version);
        if (answer === "unsent") {
          this.unsentAnswer("ack", msg.payload.version);
          return;
        }
        // lastHash already names what was sent last; a late ack of an older snapshot must not
        // overwrite it, or a later change back to that older config would never be pushed.
        if (answer === "new") {
          this.deps.stats.configEvent?.(this.agent, {
            kind: "ack",
            version: msg.payload.version,
            at: new Date(),
          });
        }
        this.record({
          appliedVersion: msg.payload.version,
          lastError: null,
          lastHeartbeatAt: new Date(),
        });
        return;
      }
      case "nack": {
        const { version } = msg.payload;
        const reason = storable(msg.payload.reason);
        const answer = this.reports.answer("nack", version, reason);
        if (answer === "unsent") {
          this.unsentAnswer("nack", version);
          return;
        }
        // The same refusal again is no news: one row and one line per version and reason.
        if (answer === "new") {
          this.logs.write("warn", "nack", "agent refused snapshot", {
            agent: this.agent.name,
            version,
            reason: logSafe(reason),
          });
          this.deps.stats.configEvent?.(this.agent, { kind: "nack", version, reason, at: new Date() });
        }
        this.record({ lastError: `v${version}: ${reason}`, lastHeartbeatAt: new Date() });
        return;
      }
      case "heartbeat": {
        const { workers } = msg.payload;
        if (workers) this.logRestarts(workers);
        this.record({ lastHeartbeatAt: new Date(), ...(workers ? { workers } : {}) });
        return;
      }
      case "health": {
        const { fresh, refused } = this.reports.health(msg.payload.events);
        if (refused > 0) {
          this.logs.write(
            "warn",
            "health-refused",
            "agent health events refused (malformed or over budget)",
            {
              agent: this.agent.name,
              refused,
            },
          );
        }
        if (fresh.length === 0) return;
        this.deps.health.add(
          this.agent,
          fresh.map((e) => (e.reason === undefined ? e : { ...e, reason: storable(e.reason) })),
        );
        for (const e of fresh) {
          this.logs.write("info", "health", "backend health", {
            agent: this.agent.name,
            backend: `${logSafe(e.address)}:${e.port}`,
            state: e.state,
            reason: logSafe(e.reason ?? ""),
          });
        }
        return;
      }
      case "stats":
        this.deps.stats.ingest(this.agent, msg.payload.points);
        return;
      case "error":
        this.logs.write("warn", "error", "agent reported an error", {
          agent: this.agent.name,
          code: logSafe(msg.payload.code, 100),
          message: logSafe(msg.payload.message),
        });
        return;
    }
  }

  /**
   * One log line per heartbeat that reports workers restarted since the one
   * before on this connection (the first heartbeat only sets the baseline, so
   * a reconnect does not log old restarts again). Rate limited like every
   * line about an agent, so a lying agent cannot flood the log.
   */
  private logRestarts(report: WorkersReport): void {
    const before = this.workerRestarts;
    this.workerRestarts = new Map(report.rows.map((w) => [w.index, w.restarts]));
    if (!before) return;
    const restarted = report.rows.filter((w) => w.restarts > (before.get(w.index) ?? w.restarts));
    if (restarted.length === 0) return;
    this.logs.write("warn", "worker-restart", "agent data-plane worker restarted", {
      agent: this.agent.name,
      workers: restarted.slice(0, 8).map((w) => ({
        index: w.index,
        restarts: w.restarts,
        stalls: w.stalls,
        state: w.state,
        ...(w.lastRestart ?? {}),
      })),
    });
  }

  /** An answer to a snapshot this connection never sent: a confused or hostile agent; nothing is recorded. */
  private unsentAnswer(kind: "ack" | "nack", version: number): void {
    this.logs.write("warn", "unsent", "agent answered a snapshot version it was not sent", {
      agent: this.agent.name,
      kind,
      version,
    });
  }

  private record(data: AgentStatusUpdate): void {
    this.deps.status.write(this.agent.id, data);
  }
}

/** Payload bytes of a frame, whichever shape ws hands it in. */
function rawLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data.byteLength;
}
