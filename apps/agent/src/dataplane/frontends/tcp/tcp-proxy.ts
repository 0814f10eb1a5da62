import { connect, type Socket } from "node:net";
import { errorCode, errorMessage } from "../../../errors";
import type { Logger } from "../../../log";
import type { AcquireResult, Lease, PoolHandle } from "../../exchange";
import { clientIpOf } from "../../http/headers";
import { TcpRequestFacts } from "../../http/request-facts";
import type { CompiledRoute, RouteTable } from "../../pools/route-table";
import { writeNow, writePending } from "../../sockets/direct-write";
import type { IdleEntry, IdleWatch } from "../../sockets/idle-watch";
import { countBytes, type TrafficCounters } from "../../stats/counters";
import type { DataPlaneTimeouts } from "../../timeouts";
import type { ListenerConfig } from "../listener-config";

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
 *
 * `sharedReads`: the listener feeds the client's reads through
 * `onClientBytes` as views of a buffer every connection shares
 * (sockets/accept.ts); otherwise the tunnel listens to 'data' itself.
 * Returns the tunnel, or undefined when the connection was refused at once.
 */
export function handleTcpConnection(
  ctx: TcpProxyContext,
  client: Socket,
  sharedReads = false,
): TcpTunnel | undefined {
  client.on("error", (err) => {
    ctx.log.debug("tcp client error", { code: errorCode(err) });
    client.destroy();
  });
  const route = ctx.table.first();
  if (!route) {
    client.destroy();
    return undefined;
  }
  client.pause();
  client.setNoDelay(true);
  const tunnel = new TcpTunnel(ctx, client, route);
  if (!sharedReads) client.on("data", (chunk: Buffer) => tunnel.onClientBytes(chunk, true));
  tunnel.next();
  return tunnel;
}

/**
 * One client connection and its upstream. Bytes move with plain listeners
 * instead of pipe(): client reads as views of the shared read buffer, backend
 * reads through net's `onread` into a reused buffer (no Readable machinery,
 * no ArrayBuffer per read), both written straight to the other socket's
 * handle when nothing is queued (sockets/direct-write.ts), back-pressure by
 * pause/resume on 'drain'. Idle time is watched by the listener's ticker
 * rather than two socket timers re-armed per chunk.
 */
export class TcpTunnel implements IdleEntry {
  active = true;
  idleAt = 0;
  readonly idleMs: number;
  private readonly connectMs: number;
  private readonly pool: PoolHandle & { readonly counters?: TrafficCounters };
  private readonly facts: TcpRequestFacts;
  private readonly lstats: ListenerConfig["stats"] | undefined;
  private readonly tried = new Set<string>();
  private retries = 0;
  private upstream: Socket | undefined;
  private connected = false;
  private rbuf: Buffer | undefined;
  private lent = false;
  /** Client bytes that arrived before the backend connected. */
  private early: Buffer | undefined;
  /** Bytes moved each way, counted here because direct writes bypass the sockets' own counters. */
  private fromClient = 0;
  private toClient = 0;

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

  /**
   * Client bytes. `owned` false: a view of the shared read buffer that dies
   * when this call returns, so it is copied before it is written: a write
   * the kernel takes only in part keeps pointing at its bytes.
   */
  onClientBytes(chunk: Buffer, owned: boolean): void {
    this.active = true;
    const upstream = this.upstream;
    if (!this.connected || upstream === undefined) {
      // The client stays paused until the backend connects, so this is rare: keep the bytes for then.
      const copy = owned ? chunk : Buffer.from(chunk);
      this.early = this.early === undefined ? copy : Buffer.concat([this.early, copy]);
      this.client.pause();
      return;
    }
    this.fromClient += chunk.length;
    if (!writeNow(upstream, owned ? chunk : Buffer.from(chunk))) this.client.pause();
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
    upstream.setNoDelay(true);
    const connectTimer = setTimeout(() => {
      ctx.log.warn("tcp upstream connect timed out", { backend: backend.id, ms: this.connectMs });
      upstream.destroy(new Error(`connect timed out after ${this.connectMs} ms`));
    }, this.connectMs);
    upstream.on("error", (err) => {
      clearTimeout(connectTimer);
      if (!this.connected) {
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
      if (!this.connected) return;
      const bytes = { fromClient: this.fromClient, toClient: this.toClient };
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
      this.connected = true;
      connectMs = performance.now() - started;
      this.active = true;
      const early = this.early;
      this.early = undefined;
      if (early !== undefined) this.onClientBytes(early, true);
      // Client → backend: FIN follows the data (half-close).
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
      // Early bytes still queued: upstream's 'drain' resumes the client.
      if (!writePending(upstream)) client.resume();
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
    this.toClient += n;
    const client = this.client;
    const ok = writeNow(client, buf.subarray(0, n));
    // Bytes still queued for the client point into this buffer: read into a new one next.
    if (!ok || writePending(client)) this.lent = true;
    if (!ok) this.upstream?.pause();
    return true;
  }
}
