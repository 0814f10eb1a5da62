import type { IncomingMessage } from "node:http";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import { errorMessage } from "../../../errors";
import type { Lease } from "../../exchange";
import { clientIpOf, upstreamRequestHeaders } from "../../http/headers";
import { type LocalReason, replyLocalRaw } from "../../http/local-reply";
import { UpstreamTimeoutError } from "../../http/proxy-errors";
import { NodeRequestFacts } from "../../http/request-facts";
import { classifyUpstreamFailure } from "../../http/upstream-failure";
import { normalizeHost } from "../../pools/route-table";
import { countAborted, countBytes, countResponse } from "../../stats/counters";
import type { HttpProxyContext } from "./http-proxy";
import { nodeRequestTarget, upgradeToForward } from "./node-request-target";

/**
 * WebSocket (any Upgrade) passthrough: re-send the request head to a backend
 * over a fresh connection, then splice the two sockets; the backend's 101 (or
 * refusal) flows back untouched. The lease is held for the tunnel's life, so
 * a draining backend counts it as open work; a failed connect is retried on
 * another backend within the pool's retry budget. An h2c upgrade is not
 * forwarded (backends speak HTTP/1.1): h2c is taken out of Upgrade, and a
 * request that asked for h2c alone goes to the backend as a plain request
 * with Connection: close, its response relayed the same way.
 */
export function handleUpgrade(
  ctx: HttpProxyContext,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  socket.on("error", () => socket.destroy());
  const lstats = ctx.table.config?.stats;
  if (lstats) lstats.requests++;
  const target = nodeRequestTarget(req);
  if (target === undefined) {
    if (lstats) countResponse(400, lstats);
    replyLocalRaw(socket, 400, "bad-request");
    return;
  }
  const url = target.url;
  const q = url.indexOf("?");
  const path = q === -1 ? url : url.slice(0, q);
  const host = normalizeHost(target.host);
  const route = ctx.table.match(host, path);
  if (!route) {
    if (lstats) countResponse(404, lstats);
    replyLocalRaw(socket, 404, "no-route");
    return;
  }
  if (route.stats) route.stats.requests++;
  route.pool.counters.requests++;
  const clientIp = clientIpOf(req.socket.remoteAddress);
  const facts = new NodeRequestFacts(req, req.method ?? "GET", path, host, clientIp);
  let responded = false;
  const answer = (status: number, reason: LocalReason) => {
    responded = true;
    countResponse(status, lstats, route.stats, route.pool.counters);
    replyLocalRaw(socket, status, reason);
  };
  socket.once("close", () => {
    if (!responded) countAborted(lstats, route.stats, route.pool.counters);
  });

  let retries = 0;
  let lastError: Error | undefined;
  const tried = new Set<string>();
  const next = () => {
    route.pool.acquire(facts, { exclude: tried, routeId: route.id }).then((r) => {
      if (socket.destroyed) {
        if (r.ok) r.lease.finish({ kind: "client-aborted" });
        return;
      }
      if (!r.ok && r.reason === "no-backend" && lastError) {
        return answer(classifyUpstreamFailure(lastError).status, classifyUpstreamFailure(lastError).reason);
      }
      if (!r.ok) return answer(503, r.reason);
      tunnel(r.lease);
    });
  };

  const tunnel = (lease: Lease) => {
    const backend = lease.backend;
    const t = ctx.table.config?.timeouts ?? {
      connectMs: ctx.timeouts.upstreamConnectMs,
      idleMs: ctx.timeouts.idleMs,
    };
    const started = performance.now();
    let connected = false;
    let status = 0;
    const host = backend.address;
    const upstream = backend.tls
      ? tlsConnect({ ...backend.tls.connectOptions(backend.key, host), host, port: backend.port })
      : connect({ host, port: backend.port });
    const connectTimer = setTimeout(
      () => upstream.destroy(new UpstreamTimeoutError("connect", t.connectMs)),
      t.connectMs,
    );
    upstream.on("error", (err) => {
      clearTimeout(connectTimer);
      if (connected) return socket.destroy();
      lease.finish({ kind: "connect-failed", error: err });
      if (!socket.destroyed && route.pool.mayRetry(retries + 1)) {
        retries++;
        lastError = err;
        tried.add(backend.key);
        return next();
      }
      const { status: s, reason } = classifyUpstreamFailure(err);
      ctx.log.warn("upgrade to upstream failed", { backend: backend.id, reason, error: errorMessage(err) });
      answer(s, reason);
    });
    upstream.once("close", () => {
      if (!connected) return;
      const bytes = { fromClient: upstream.bytesWritten, toClient: upstream.bytesRead };
      countBytes(bytes.fromClient, bytes.toClient, lstats, route.stats, route.pool.counters);
      if (status === 0)
        lease.finish({ kind: "failed-before-response", error: new Error("no answer"), timeout: false });
      else lease.finish({ kind: "response", status, latencyMs: performance.now() - started }, bytes);
      socket.destroy();
    });
    socket.once("close", () => upstream.destroy());

    upstream.once(backend.tls ? "secureConnect" : "connect", () => {
      clearTimeout(connectTimer);
      connected = true;
      const upgrade = upgradeToForward(req);
      const headers = upstreamRequestHeaders(
        req.rawHeaders,
        {
          clientIp,
          proto: "http",
          host: target.host,
          trust: ctx.table.config?.trustForwarded,
          ...(target.absolute ? { replaceHost: target.host } : {}),
        },
        upgrade,
      );
      if (upgrade === undefined) headers.push("Connection", "close");
      let text = `${req.method} ${url} HTTP/1.1\r\n`;
      for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
      upstream.write(`${text}\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.setTimeout(t.idleMs, () => upstream.destroy());
      // The status line is read (not parsed further) for the counters: "HTTP/1.1 101 ...".
      upstream.once("data", (chunk: Buffer) => {
        const s = Number(chunk.subarray(9, 12).toString("latin1"));
        status = Number.isInteger(s) && s >= 100 && s <= 599 ? s : 502;
        responded = true;
        countResponse(status, lstats, route.stats, route.pool.counters);
      });
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
  };
  next();
}
