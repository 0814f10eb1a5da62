import type { PrismaClient } from "@fulcrum/db";
import {
  type AgentMessage,
  decodeAgentMessage,
  encodeConsoleMessage,
  SUPPORTED_PROTOCOL_VERSIONS,
} from "@fulcrum/protocol";
import type { WebSocket } from "ws";
import type { Logger } from "../logger";
import type { StatsSink } from "../metrics/sink";
import type { AgentStatusUpdate, AgentStatusWriter } from "./agent-status-writer";
import { CloseCode } from "./close-codes";
import type { SnapshotFrame } from "./snapshot-frames";

export const HEARTBEAT_INTERVAL_MS = 5000;
const HELLO_TIMEOUT_MS = 10_000;

export interface AgentIdentity {
  id: string;
  name: string;
  clusterId: string;
}

/** One connected agent: speaks the protocol and records what the agent reports. */
export class AgentConnection {
  private helloDone = false;
  /** Hash of the last snapshot sent or reported applied, so unchanged configs are not re-sent. */
  private lastHash: string | null = null;
  private readonly helloTimer: NodeJS.Timeout;

  constructor(
    readonly agent: AgentIdentity,
    private readonly ws: WebSocket,
    private readonly deps: {
      prisma: PrismaClient;
      log: Logger;
      stats: StatsSink;
      currentFrame: (clusterId: string) => Promise<SnapshotFrame>;
      status: AgentStatusWriter;
      onClose: (conn: AgentConnection) => void;
    },
  ) {
    this.helloTimer = setTimeout(
      () => this.close(CloseCode.badHello, "no hello within 10 s"),
      HELLO_TIMEOUT_MS,
    );
    ws.on("message", (data) => {
      void this.onFrame(data.toString()).catch((err: unknown) =>
        this.deps.log.error("agent frame failed", { agent: agent.name, err }),
      );
    });
    ws.on("close", () => {
      clearTimeout(this.helloTimer);
      this.deps.onClose(this);
      this.record({ disconnectedAt: new Date() });
    });
  }

  get ready(): boolean {
    return this.helloDone;
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  /** Sends the cluster's current snapshot unless the agent already has it. */
  async pushCurrent(): Promise<void> {
    if (!this.helloDone) return;
    const current = await this.deps.currentFrame(this.agent.clusterId);
    if (current.hash === this.lastHash) return;
    this.lastHash = current.hash;
    this.send(current.frame);
  }

  private send(frame: string): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(frame);
  }

  private async onFrame(raw: string): Promise<void> {
    const decoded = decodeAgentMessage(raw);
    if (!decoded.ok) {
      this.deps.log.warn("invalid agent message", { agent: this.agent.name, error: decoded.error });
      this.send(encodeConsoleMessage("error", { code: "INVALID_MESSAGE", message: decoded.error }));
      return;
    }
    await this.onMessage(decoded.message);
  }

  private async onMessage(msg: AgentMessage): Promise<void> {
    if (msg.type !== "hello" && !this.helloDone) {
      this.send(encodeConsoleMessage("error", { code: "HELLO_FIRST", message: "send hello first" }));
      return;
    }
    switch (msg.type) {
      case "hello": {
        const common = msg.payload.protocolVersions.filter((v) => SUPPORTED_PROTOCOL_VERSIONS.includes(v));
        if (common.length === 0) {
          const message = `this console speaks protocol ${SUPPORTED_PROTOCOL_VERSIONS.join(", ")}; the agent speaks ${msg.payload.protocolVersions.join(", ")}. Upgrade the older side.`;
          this.send(encodeConsoleMessage("error", { code: "PROTOCOL_UNSUPPORTED", message }));
          this.close(CloseCode.protocolUnsupported, "protocol version unsupported");
          return;
        }
        clearTimeout(this.helloTimer);
        this.helloDone = true;
        this.lastHash = msg.payload.appliedHash;
        this.record({
          connectedAt: new Date(),
          lastHeartbeatAt: new Date(),
          softwareVersion: msg.payload.softwareVersion,
          appliedVersion: msg.payload.appliedVersion,
        });
        this.send(
          encodeConsoleMessage("welcome", {
            agentId: this.agent.id,
            clusterId: this.agent.clusterId,
            protocolVersion: Math.max(...common),
            heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
          }),
        );
        await this.pushCurrent();
        return;
      }
      case "ack":
        // lastHash already names what was sent last; a late ack of an older snapshot must not
        // overwrite it, or a later change back to that older config would never be pushed.
        this.deps.stats.configEvent?.(this.agent, {
          kind: "ack",
          version: msg.payload.version,
          at: new Date(),
        });
        this.record({
          appliedVersion: msg.payload.version,
          lastError: null,
          lastHeartbeatAt: new Date(),
        });
        return;
      case "nack":
        this.deps.log.warn("agent refused snapshot", {
          agent: this.agent.name,
          version: msg.payload.version,
          reason: msg.payload.reason,
        });
        this.deps.stats.configEvent?.(this.agent, {
          kind: "nack",
          version: msg.payload.version,
          reason: msg.payload.reason,
          at: new Date(),
        });
        this.record({
          lastError: `v${msg.payload.version}: ${msg.payload.reason}`,
          lastHeartbeatAt: new Date(),
        });
        return;
      case "heartbeat":
        this.record({ lastHeartbeatAt: new Date() });
        return;
      case "health":
        this.deps.stats.healthEvents?.(this.agent, msg.payload.events);
        for (const e of msg.payload.events) {
          this.deps.log.info("backend health", {
            agent: this.agent.name,
            backend: `${e.address}:${e.port}`,
            state: e.state,
            reason: e.reason ?? "",
          });
        }
        return;
      case "stats":
        this.deps.stats.ingest(this.agent, msg.payload.points);
        return;
      case "error":
        this.deps.log.warn("agent reported an error", { agent: this.agent.name, ...msg.payload });
        return;
    }
  }

  private record(data: AgentStatusUpdate): void {
    this.deps.status.write(this.agent.id, data);
  }
}
