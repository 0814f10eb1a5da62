import { connect, type Socket } from "node:net";
import { errorCode, errorMessage } from "../errors";
import type { Logger } from "../log";
import { clientIpOf } from "./headers";
import type { RouteTable } from "./route-table";
import type { DataPlaneTimeouts } from "./timeouts";

export interface TcpProxyContext {
  readonly table: RouteTable;
  readonly timeouts: DataPlaneTimeouts;
  readonly log: Logger;
}

/**
 * L4 splice. Both sockets allow half-open so a client that shuts down its
 * write side (e.g. after sending a request) still gets the whole reply.
 */
export function handleTcpConnection(ctx: TcpProxyContext, client: Socket): void {
  client.on("error", (err) => {
    ctx.log.debug("tcp client error", { code: errorCode(err) });
    client.destroy();
  });
  const pool = ctx.table.first()?.pool;
  const backend = pool?.pick(clientIpOf(client.remoteAddress));
  if (!pool || !backend) {
    ctx.log.debug("tcp connection refused: no backend", { pool: pool?.name });
    client.destroy();
    return;
  }
  const done = backend.begin();
  const t = ctx.timeouts;
  const upstream = connect({ host: backend.address, port: backend.port, allowHalfOpen: true });
  const connectTimer = setTimeout(() => {
    ctx.log.warn("tcp upstream connect timed out", { backend: backend.id, ms: t.upstreamConnectMs });
    upstream.destroy();
  }, t.upstreamConnectMs);
  upstream.on("error", (err) => {
    ctx.log.warn("tcp upstream failed", { pool: pool.name, backend: backend.id, error: errorMessage(err) });
    upstream.destroy();
  });
  upstream.once("close", () => {
    clearTimeout(connectTimer);
    done();
    client.destroy();
  });
  client.once("close", () => upstream.destroy());
  const idle = () => {
    client.destroy();
    upstream.destroy();
  };
  client.setTimeout(t.idleMs, idle);
  upstream.setTimeout(t.idleMs, idle);

  // Bytes the client sends before the upstream connects are buffered by the socket.
  client.pipe(upstream);
  upstream.once("connect", () => {
    clearTimeout(connectTimer);
    upstream.pipe(client);
  });
}
