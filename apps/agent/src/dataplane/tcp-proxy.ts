import { connect, type Socket } from "node:net";
import { errorCode, errorMessage } from "../errors";
import type { Logger } from "../log";
import type { AcquireResult, Lease, PoolHandle } from "./exchange";
import { clientIpOf } from "./headers";
import type { IdleEntry, IdleWatch } from "./idle-watch";
import type { ListenerConfig } from "./listener-config";
import { TcpRequestFacts } from "./request-facts";
import type { CompiledRoute, RouteTable } from "./route-table";
import { countBytes } from "./stats";
import type { DataPlaneTimeouts } from "./timeouts";

export interface TcpProxyContext {
  readonly table: RouteTable;
  readonly timeouts: DataPlaneTimeouts;
  readonly log: Logger;
  /** Finds idle tunnels on one ticker; without it each socket gets its own setTimeout. */
  readonly idle?: IdleWatch;
}

/** Read buffer per upstream socket (reused while nothing of it is still queued for the client). */
const READ_BUFFER_BYTES = 32 * 1024;

/**
 * L4 splice through the pool: one lease per connection, held until both
 * sides close (so per-backend limits and draining see open tunnels). Client
 * bytes wait in the socket until the backend connects, so a refused connect
 * is retried on another backend within the pool's retry budget. Both sockets
 * allow half-open so a client that shuts down its write side (e.g. after
 * sending a request) still gets the whole reply.
 */
export function handleTcpConnection(ctx: TcpProxyContext, client: Socket): void {
  client.on("error", (err) => {
    ctx.log.debug("tcp client error", { code: errorCode(err) });
    client.destroy();
  });
  const route = ctx.table.first();
  if (!route) {
    client.destroy();
    return;
  }
  client.pause();
  new TcpTunnel(ctx, client, route).next();
}

/**
 * One client connection and its upstream. Bytes move with plain listeners
 * instead of pipe(): client data through 'data', backend data through net's
 * `onread` into a reused buffer (no Readable machinery, no ArrayBuffer per
 * read), back-pressure by pause/resume on 'drain'. Idle time is watched by the
 * listener's ticker rather than two socket timers re-armed per chunk.
 */
class TcpTunnel implements IdleEntry {
  active = true;
  idleAt = 0;
  readonly idleMs: number;
  private readonly connectMs: number;
  private readonly pool: PoolHandle & { readonly counters?: import("./stats").TrafficCounters };
  private readonly facts: TcpRequestFacts;
  private readonly lstats: ListenerConfig["stats"] | undefined;
  private readonly tried = new Set<string>();
  private retries = 0;
  private upstream: Socket | undefined;
  private rbuf: Buffer | undefined;
  private lent = false;

  constructor(
    private readonly ctx: TcpProxyContext,
    private readonly client: Socket,
    private readonly route: CompiledRoute,
  ) {
    this.pool = route.pool;
    this.lstats = ctx.table.config?.stats;
    const t = ctx.table.config?.timeouts ?? {
      connectMs: ctx.timeouts.upstreamConnectMs,
      idleMs: ctx.timeouts.idleMs,
    };
    this.idleMs = t.idleMs;
    this.connectMs = t.connectMs;
    this.facts = new TcpRequestFacts(clientIpOf(client.remoteAddress));
    if (ctx.idle !== undefined) {
      ctx.idle.add(this);
      client.once("close", () => ctx.idle!.delete(this));
    } else {
      client.setTimeout(this.idleMs, () => client.destroy());
    }
  }

  onIdle(): void {
    this.client.destroy();
    this.upstream?.destroy();
  }

  next(): void {
    const exclude = this.tried.size > 0 ? this.tried : undefined;
    const now = this.pool.tryAcquire?.(this.facts, exclude);
    if (now !== undefined) {
      this.onAcquired(now);
      return;
    }
    this.pool
      .acquire(this.facts, { exclude: this.tried, routeId: this.route.id })
      .then((r) => this.onAcquired(r));
  }

  private onAcquired(r: AcquireResult): void {
    const client = this.client;
    if (client.destroyed) {
      if (r.ok) r.lease.finish({ kind: "client-aborted" });
      return;
    }
    if (!r.ok) {
      this.ctx.log.debug("tcp connection refused", { pool: this.pool.name, reason: r.reason });
      client.destroy();
      return;
    }
    this.splice(r.lease);
  }

  private splice(lease: Lease): void {
    const { ctx, client, pool } = this;
    const backend = lease.backend;
    const started = performance.now();
    let connected = false;
    let connectMs = 0;
    const upstream = connect({
      host: backend.address,
      port: backend.port,
      allowHalfOpen: true,
      onread: {
        buffer: () => this.readBuffer(),
        callback: (n: number, buf: Uint8Array) => this.onUpstreamRead(n, buf as Buffer),
      },
    });
    this.upstream = upstream;
    const connectTimer = setTimeout(() => {
      ctx.log.warn("tcp upstream connect timed out", { backend: backend.id, ms: this.connectMs });
      upstream.destroy(new Error(`connect timed out after ${this.connectMs} ms`));
    }, this.connectMs);
    upstream.on("error", (err) => {
      clearTimeout(connectTimer);
      if (!connected) {
        lease.finish({ kind: "connect-failed", error: err });
        this.upstream = undefined;
        if (!client.destroyed && pool.mayRetry(this.retries + 1)) {
          this.retries++;
          this.tried.add(backend.key);
          this.next();
          return;
        }
        ctx.log.warn("tcp upstream failed", {
          pool: pool.name,
          backend: backend.id,
          error: errorMessage(err),
        });
        client.destroy();
        return;
      }
      upstream.destroy();
    });
    upstream.once("close", () => {
      clearTimeout(connectTimer);
      if (!connected) return;
      const bytes = { fromClient: upstream.bytesWritten, toClient: upstream.bytesRead };
      if (this.lstats)
        countBytes(bytes.fromClient, bytes.toClient, this.lstats, this.route.stats, pool.counters);
      lease.finish({ kind: "response", status: 0, latencyMs: connectMs }, bytes);
      client.destroy();
    });
    client.once("close", () => upstream.destroy());
    if (ctx.idle === undefined) {
      upstream.setTimeout(this.idleMs, () => {
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.once("connect", () => {
      clearTimeout(connectTimer);
      connected = true;
      connectMs = performance.now() - started;
      this.active = true;
      // Client → backend; FIN follows the data (half-close).
      client.on("data", (chunk: Buffer) => {
        this.active = true;
        if (!upstream.write(chunk)) client.pause();
      });
      client.on("end", () => upstream.end());
      upstream.on("drain", () => {
        this.active = true;
        client.resume();
      });
      // Backend → client: data through onread; FIN through 'end'.
      upstream.on("end", () => client.end());
      client.on("drain", () => {
        this.active = true;
        upstream.resume();
      });
      client.resume();
    });
  }

  private readBuffer(): Buffer {
    if (this.rbuf === undefined || this.lent) {
      this.lent = false;
      this.rbuf = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    }
    return this.rbuf;
  }

  private onUpstreamRead(n: number, buf: Buffer): boolean {
    this.active = true;
    const client = this.client;
    if (!client.write(buf.subarray(0, n))) this.upstream?.pause();
    // Bytes still queued in the client socket point into this buffer: read into a new one next.
    if (client.writableLength > 0) this.lent = true;
    return true;
  }
}
