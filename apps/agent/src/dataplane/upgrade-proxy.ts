import type { IncomingMessage } from "node:http";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import { errorMessage } from "../errors";
import { clientIpOf, upstreamRequestHeaders } from "./headers";
import type { HttpProxyContext } from "./http-proxy";
import { replyLocalRaw } from "./local-reply";
import { UpstreamTimeoutError } from "./proxy-errors";
import { normalizeHost } from "./route-table";
import { classifyUpstreamFailure } from "./upstream-failure";

/**
 * WebSocket (any Upgrade) passthrough: re-send the request head to a backend
 * over a fresh connection, then splice the two sockets; the backend's 101 (or
 * refusal) flows back untouched.
 */
export function handleUpgrade(
  ctx: HttpProxyContext,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  socket.on("error", () => socket.destroy());
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const route = ctx.table.match(normalizeHost(req.headers.host), q === -1 ? url : url.slice(0, q));
  if (!route) {
    replyLocalRaw(socket, 404, "no-route");
    return;
  }
  const clientIp = clientIpOf(req.socket.remoteAddress);
  const backend = route.pool.pick(clientIp);
  if (!backend) {
    replyLocalRaw(socket, 503, "no-backend");
    return;
  }

  const done = backend.begin();
  const t = ctx.timeouts;
  let connected = false;
  const upstream = connect({ host: backend.address, port: backend.port });
  const connectTimer = setTimeout(
    () => upstream.destroy(new UpstreamTimeoutError("connect", t.upstreamConnectMs)),
    t.upstreamConnectMs,
  );
  upstream.on("error", (err) => {
    clearTimeout(connectTimer);
    if (connected) return socket.destroy();
    const { status, reason } = classifyUpstreamFailure(err);
    ctx.log.warn("upgrade to upstream failed", { backend: backend.id, reason, error: errorMessage(err) });
    replyLocalRaw(socket, status, reason);
  });
  upstream.once("close", () => {
    done();
    socket.destroy();
  });
  socket.once("close", () => upstream.destroy());

  upstream.once("connect", () => {
    clearTimeout(connectTimer);
    connected = true;
    const headers = upstreamRequestHeaders(
      req.rawHeaders,
      { clientIp, proto: "http", host: req.headers.host },
      true,
    );
    let text = `${req.method} ${url} HTTP/1.1\r\n`;
    for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
    upstream.write(`${text}\r\n`);
    if (head.length > 0) upstream.write(head);
    upstream.setTimeout(t.idleMs, () => upstream.destroy());
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
}
