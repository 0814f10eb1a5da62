import {
  AGENT_GATEWAY_PATH,
  type AgentMessageType,
  type AgentPayload,
  encodeAgentMessage,
} from "@fulcrum/protocol";
import WebSocket from "ws";
import { nowMs } from "./clock.ts";

export interface Credential {
  name: string;
  agentId: string;
  credential: string;
}

/** Delay before reconnect attempt `attempt` (0 after a welcomed session), like the real agent's run loop. */
export type RetryPolicy = (attempt: number) => number;

export interface AgentObserver {
  /** A connection attempt starts (TCP + upgrade). */
  attempt?(a: SimAgent, t: number): void;
  /** The console accepted the upgrade. */
  open?(a: SimAgent, t: number): void;
  welcome?(a: SimAgent, t: number): void;
  snapshot?(a: SimAgent, version: number, t: number): void;
  closed?(a: SimAgent, code: number, t: number): void;
}

/** Close codes after which the real agent stops (apps/agent/src/console/close-codes.ts). */
const FATAL = new Set([4401, 4403, 4426]);
const MAX_FRAME_BYTES = 32 * 1024 * 1024;
const started = Date.now();

/**
 * One simulated agent on one real WebSocket: the real agent's protocol (hello with its
 * applied hash, ack every snapshot at once, heartbeat on ping and every interval the
 * welcome names, transport pings) and its reconnect loop, without a data plane.
 */
export class SimAgent {
  applied: { version: number; hash: string } | null = null;
  welcomed = false;
  stopped = false;
  fatal: number | undefined;
  private ws: WebSocket | undefined;
  private attemptNo = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    readonly cred: Credential,
    private readonly url: string,
    public policy: RetryPolicy,
    private readonly observer: AgentObserver,
  ) {}

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN && this.welcomed;
  }

  connect(): void {
    if (this.stopped) return;
    const url = new URL(AGENT_GATEWAY_PATH, this.url.replace(/^http/, "ws"));
    this.observer.attempt?.(this, nowMs());
    const ws = new WebSocket(url, {
      headers: { authorization: `Bearer ${this.cred.credential}` },
      handshakeTimeout: 10_000,
      maxPayload: MAX_FRAME_BYTES,
    });
    this.ws = ws;
    let ended = false;
    let lastHeard = Date.now();
    const send = <T extends AgentMessageType>(type: T, payload: AgentPayload<T>) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(encodeAgentMessage(type, payload));
    };
    const end = (code: number) => {
      clearInterval(this.heartbeat);
      if (ended) return;
      ended = true;
      const welcomed = this.welcomed;
      this.welcomed = false;
      this.observer.closed?.(this, code, nowMs());
      if (this.stopped) return;
      if (FATAL.has(code)) {
        this.fatal = code;
        return;
      }
      if (welcomed) this.attemptNo = 0;
      this.retry = setTimeout(() => this.connect(), this.policy(this.attemptNo++));
    };

    ws.on("error", () => {});
    ws.on("unexpected-response", (_req, res) => {
      const status = res.statusCode;
      res.resume();
      ws.terminate();
      end(status === 401 ? 4401 : status === 403 ? 4403 : status === 426 ? 4426 : 1006);
    });
    ws.on("close", (code) => end(code));
    ws.on("pong", () => {
      lastHeard = Date.now();
    });
    ws.on("open", () => {
      this.observer.open?.(this, nowMs());
      send("hello", {
        name: this.cred.name,
        softwareVersion: "fleet-bench",
        protocolVersions: [1],
        capabilities: [],
        appliedVersion: this.applied?.version ?? null,
        appliedHash: this.applied?.hash ?? null,
      });
    });
    ws.on("message", (data) => {
      const t = nowMs();
      lastHeard = Date.now();
      const m = JSON.parse(data.toString()) as {
        type: string;
        payload: { heartbeatIntervalMs?: number; snapshot?: { version: number; hash: string } };
      };
      switch (m.type) {
        case "welcome": {
          this.welcomed = true;
          this.observer.welcome?.(this, t);
          const every = m.payload.heartbeatIntervalMs ?? 5000;
          clearInterval(this.heartbeat);
          this.heartbeat = setInterval(() => {
            if (Date.now() - lastHeard > 3 * every + 5_000) return ws.terminate();
            send("heartbeat", {
              appliedVersion: this.applied?.version ?? null,
              uptimeMs: Date.now() - started,
            });
            ws.ping();
          }, every);
          return;
        }
        case "snapshot": {
          const s = m.payload.snapshot as { version: number; hash: string };
          this.applied = { version: s.version, hash: s.hash };
          send("ack", { version: s.version, hash: s.hash });
          this.observer.snapshot?.(this, s.version, t);
          return;
        }
        case "ping":
          return send("heartbeat", {
            appliedVersion: this.applied?.version ?? null,
            uptimeMs: Date.now() - started,
          });
        default:
          return;
      }
    });
  }

  /** Sends one `stats` message on the open session (the ingest part); false when not connected. */
  sendStats(payload: AgentPayload<"stats">): boolean {
    if (!this.connected || !this.ws) return false;
    this.ws.send(encodeAgentMessage("stats", payload));
    return true;
  }

  /** Closes the socket and stops retrying. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    this.ws?.terminate();
  }

  /** Drops the socket at once without a close handshake, e.g. to simulate a lost network. */
  terminate(): void {
    this.ws?.terminate();
  }
}
