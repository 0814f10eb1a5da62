import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { PrismaClient } from "@fulcrum/db";
import {
  type CaBundleMaterial,
  CloseCode,
  encodeConsoleMessage,
  MAX_AGENT_FRAME_BYTES,
  type Snapshot,
  type TicketKeyRing,
  type TlsMaterial,
} from "@fulcrum/protocol";
import { WebSocketServer } from "ws";
import { SYSTEM_ACTOR } from "../domain/actor";
import { authenticateAgent } from "../domain/agents";
import { latestSnapshot, lockCluster, recordConfigVersion } from "../domain/config-versions";
import { hashSecret } from "../domain/secrets";
import type { ConfigPublisher } from "../domain/topology-change";
import type { EventTarget } from "../events/cluster-events";
import type { Logger } from "../logger";
import { discardStats, type StatsSink } from "../metrics/sink";
import { AgentConnection, HEARTBEAT_INTERVAL_MS } from "./agent-connection";
import {
  type AgentLimits,
  DEFAULT_AGENT_LIMITS,
  FAILED_AUTH_BURST,
  FAILED_AUTH_PER_SECOND,
} from "./agent-limits";
import { AgentStatusWriter } from "./agent-status-writer";
import { FloodPenalty } from "./flood-penalty";
import { HealthEventBatcher } from "./health-event-batcher";
import { LogThrottle, logSafe } from "./log-throttle";
import { SnapshotFrames } from "./snapshot-frames";
import { UpgradeLimiter } from "./upgrade-limiter";

/**
 * Hosts the agents' WebSockets inside the console process. Agents are
 * authenticated at the HTTP upgrade; each cluster's changes are pushed to its
 * own agents only, and a burst of changes is coalesced into one push.
 */
export class AgentGateway implements ConfigPublisher, EventTarget {
  readonly instanceId = randomUUID();
  /** Frames above MAX_AGENT_FRAME_BYTES close the connection (1009) before they are buffered whole. */
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_AGENT_FRAME_BYTES });
  private readonly connections = new Map<string, AgentConnection>();
  private readonly pendingClusters = new Set<string>();
  private flushScheduled = false;
  private readonly liveness: NodeJS.Timeout;
  private readonly frames: SnapshotFrames;
  /** Each cluster's encoded `ticketKeys` message, read once per rotation however many agents get it. */
  private readonly ticketFrames = new Map<string, Promise<string>>();
  private readonly status: AgentStatusWriter;
  private readonly health: HealthEventBatcher;
  private readonly limits: AgentLimits;
  /** Credentials (by hash) closed for flooding, refused at the upgrade until their back-off ends. */
  private readonly penalty = new FloodPenalty();
  private readonly logs: LogThrottle;
  /** Connections per credential (by hash). */
  private readonly connects: UpgradeLimiter;
  /** Failed authentications per client address; charged on failure, checked before the lookup. */
  private readonly failedAuths = new UpgradeLimiter(FAILED_AUTH_PER_SECOND, FAILED_AUTH_BURST);

  constructor(
    private readonly deps: {
      prisma: PrismaClient;
      log: Logger;
      stats?: StatsSink;
      /** Per-agent limits; by default the FULCRUM_AGENT_* settings of this process (see agent-limits.ts). */
      limits?: AgentLimits;
      /** Decrypted key material of a snapshot's certificates (domain/certificates/material.ts). */
      tlsMaterial?: (snapshot: Snapshot) => Promise<TlsMaterial[]>;
      /** The cluster's session-ticket key ring (domain/ticket-keys/ring-store.ts), created on first use. */
      ticketKeys?: (clusterId: string) => Promise<TicketKeyRing>;
      /** The PEM of a snapshot's CA bundles (domain/certificates/ca-bundles.ts). */
      caBundles?: (snapshot: Snapshot) => Promise<CaBundleMaterial[]>;
    },
  ) {
    this.frames = new SnapshotFrames(
      (clusterId) => this.currentSnapshot(clusterId),
      deps.tlsMaterial,
      deps.caBundles,
    );
    this.limits = deps.limits ?? DEFAULT_AGENT_LIMITS;
    this.status = new AgentStatusWriter(deps);
    this.health = new HealthEventBatcher(deps.stats ?? discardStats);
    this.logs = new LogThrottle(deps.log);
    this.connects = new UpgradeLimiter(this.limits.connectsPerMinute / 60, this.limits.connectBurst);
    this.wss.on("error", (err) => deps.log.error("agent gateway error", { err }));
    // Protocol-level pings find half-open TCP connections that would otherwise look connected for hours.
    const alive = new WeakSet<object>();
    this.liveness = setInterval(() => {
      for (const ws of this.wss.clients) {
        if (!alive.has(ws)) {
          ws.terminate();
          continue;
        }
        alive.delete(ws);
        ws.ping();
      }
    }, HEARTBEAT_INTERVAL_MS * 2);
    this.liveness.unref();
    this.wss.on("connection", (ws) => {
      alive.add(ws);
      ws.on("pong", () => alive.add(ws));
    });
  }

  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", (err) =>
      this.logs.write("warn", "socket", "agent socket error", { err: logSafe(err.message) }),
    );
    const address = req.socket.remoteAddress ?? "unknown";
    const credential = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const key = credential ? hashSecret(credential) : undefined;
    // Everything below is refused before the database is asked anything: a hash and map lookups.
    const failing = this.failedAuths.check(address);
    if (failing > 0) {
      this.refuse(socket, failing, "refused", "too many failed agent authentications from one address", {
        address: logSafe(address, 64),
      });
      return;
    }
    const penalty = key ? this.penalty.remaining(key) : 0;
    if (penalty > 0) {
      this.refuse(
        socket,
        penalty,
        "penalty",
        "agent reconnected too soon after being closed for flooding",
        {},
      );
      return;
    }
    const tooOften = key ? this.connects.take(key) : 0;
    if (tooOften > 0) {
      this.refuse(socket, tooOften, "connects", "agent connects too often; refused for now", {});
      return;
    }
    const agent = credential ? await authenticateAgent(this.deps.prisma, credential) : null;
    if (!agent) {
      this.failedAuths.take(address);
      socket.end("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on("error", (err) =>
        this.deps.log.warn("agent websocket error", { agent: agent.name, err: err.message }),
      );
      this.wss.emit("connection", ws, req);
      // One live connection per agent: a reconnecting agent replaces its stale twin.
      this.connections.get(agent.id)?.close(CloseCode.goingAway, "replaced by a newer connection");
      const conn = new AgentConnection({ id: agent.id, name: agent.name, clusterId: agent.clusterId }, ws, {
        prisma: this.deps.prisma,
        log: this.deps.log,
        stats: this.deps.stats ?? discardStats,
        currentFrame: (clusterId) => this.frames.get(clusterId),
        ...(this.deps.ticketKeys
          ? { ticketKeysFrame: (clusterId: string) => this.ticketKeysFrame(clusterId) }
          : {}),
        status: this.status,
        health: this.health,
        limits: this.limits,
        onClose: (c) => {
          if (this.connections.get(c.agent.id) !== c) return false;
          this.connections.delete(c.agent.id);
          return true;
        },
        onFlood: () => {
          if (key) this.penalty.add(key, this.limits.floodBackoffMs);
        },
      });
      this.connections.set(agent.id, conn);
      this.deps.log.info("agent connected", { agent: agent.name });
    });
  }

  clusterChanged(clusterId: string): void {
    this.pendingClusters.add(clusterId);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const clusters = [...this.pendingClusters];
      this.pendingClusters.clear();
      for (const id of clusters) {
        this.frames.invalidate(id);
        for (const conn of this.connections.values()) {
          if (conn.agent.clusterId !== id) continue;
          conn
            .pushCurrent()
            .catch((err: unknown) =>
              this.deps.log.error("snapshot push failed", { agent: conn.agent.name, err }),
            );
        }
      }
    });
  }

  ticketKeysChanged(clusterId: string): void {
    this.ticketFrames.delete(clusterId);
    for (const conn of this.connections.values()) {
      if (conn.agent.clusterId === clusterId) void conn.pushTicketKeys();
    }
  }

  private ticketKeysFrame(clusterId: string): Promise<string> {
    let entry = this.ticketFrames.get(clusterId);
    if (!entry) {
      const load = this.deps.ticketKeys!;
      entry = load(clusterId).then((ring) => encodeConsoleMessage("ticketKeys", ring));
      // A failed load must not stick.
      entry.catch(() => this.ticketFrames.delete(clusterId));
      this.ticketFrames.set(clusterId, entry);
    }
    return entry;
  }

  /** 429 with the seconds to wait; the agent backs off at least that long (and at least 30 s). */
  private refuse(
    socket: Duplex,
    waitMs: number,
    reason: string,
    msg: string,
    fields: Record<string, unknown>,
  ): void {
    const retryAfterS = Math.max(1, Math.ceil(waitMs / 1000));
    this.logs.write("warn", reason, msg, { ...fields, retryAfterS });
    socket.end(
      `HTTP/1.1 429 Too Many Requests\r\nRetry-After: ${retryAfterS}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
    );
  }

  resync(): void {
    const clusters = new Set([...this.connections.values()].map((c) => c.agent.clusterId));
    for (const id of clusters) {
      this.ticketKeysChanged(id);
      this.clusterChanged(id);
    }
  }

  disconnect(agentId: string, code: number, reason: string): void {
    this.connections.get(agentId)?.close(code, reason);
  }

  connectedAgentIds(): Set<string> {
    return new Set([...this.connections.values()].filter((c) => c.ready).map((c) => c.agent.id));
  }

  async close(): Promise<void> {
    clearInterval(this.liveness);
    for (const conn of this.connections.values()) conn.close(CloseCode.goingAway, "console shutting down");
    this.wss.close();
    this.health.close();
    await this.status.close();
  }

  /** The latest version, compiling a first one for a cluster that has never had any. */
  private async currentSnapshot(clusterId: string): Promise<Snapshot> {
    const existing = await latestSnapshot(this.deps.prisma, clusterId);
    if (existing) return existing;
    await this.deps.prisma.$transaction(async (tx) => {
      await lockCluster(tx, clusterId);
      await recordConfigVersion(tx, clusterId, SYSTEM_ACTOR);
    });
    const created = await latestSnapshot(this.deps.prisma, clusterId);
    if (!created) throw new Error(`cluster ${clusterId} has no configuration`);
    return created;
  }
}
