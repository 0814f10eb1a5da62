import { connect, type Socket } from "node:net";
import { errorCode, errorMessage } from "../errors";
import type { Logger } from "../log";
import type { Lease } from "./exchange";
import { clientIpOf } from "./headers";
import { TcpRequestFacts } from "./request-facts";
import type { RouteTable } from "./route-table";
import { countBytes } from "./stats";
import type { DataPlaneTimeouts } from "./timeouts";

export interface TcpProxyContext {
  readonly table: RouteTable;
  readonly timeouts: DataPlaneTimeouts;
  readonly log: Logger;
}

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
  const lstats = ctx.table.config?.stats;
  if (!route) {
    client.destroy();
    return;
  }
  const pool = route.pool;
  const t = ctx.table.config?.timeouts ?? {
    connectMs: ctx.timeouts.upstreamConnectMs,
    idleMs: ctx.timeouts.idleMs,
  };
  client.pause();
  client.setTimeout(t.idleMs, () => client.destroy());
  const facts = new TcpRequestFacts(clientIpOf(client.remoteAddress));
  const tried = new Set<string>();
  let retries = 0;

  const next = () => {
    pool.acquire(facts, { exclude: tried, routeId: route.id }).then((r) => {
      if (client.destroyed) {
        if (r.ok) r.lease.finish({ kind: "client-aborted" });
        return;
      }
      if (!r.ok) {
        ctx.log.debug("tcp connection refused", { pool: pool.name, reason: r.reason });
        client.destroy();
        return;
      }
      splice(r.lease);
    });
  };

  const splice = (lease: Lease) => {
    const backend = lease.backend;
    const started = performance.now();
    let connected = false;
    const upstream = connect({ host: backend.address, port: backend.port, allowHalfOpen: true });
    const connectTimer = setTimeout(() => {
      ctx.log.warn("tcp upstream connect timed out", { backend: backend.id, ms: t.connectMs });
      upstream.destroy(new Error(`connect timed out after ${t.connectMs} ms`));
    }, t.connectMs);
    upstream.on("error", (err) => {
      clearTimeout(connectTimer);
      if (!connected) {
        lease.finish({ kind: "connect-failed", error: err });
        if (!client.destroyed && pool.mayRetry(retries + 1)) {
          retries++;
          tried.add(backend.key);
          return next();
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
      if (lstats) countBytes(bytes.fromClient, bytes.toClient, lstats, route.stats, pool.counters);
      lease.finish({ kind: "response", status: 0, latencyMs: connectMs }, bytes);
      client.destroy();
    });
    let connectMs = 0;
    client.once("close", () => upstream.destroy());
    upstream.setTimeout(t.idleMs, () => {
      client.destroy();
      upstream.destroy();
    });
    upstream.once("connect", () => {
      clearTimeout(connectTimer);
      connected = true;
      connectMs = performance.now() - started;
      upstream.pipe(client);
      client.pipe(upstream);
    });
  };
  next();
}
