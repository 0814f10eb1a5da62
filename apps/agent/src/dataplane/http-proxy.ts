import { type ClientRequest, type IncomingMessage, request, type ServerResponse } from "node:http";
import { errorCode, errorMessage } from "../errors";
import type { Logger } from "../log";
import { clientIpOf, downstreamResponseHeaders, upstreamRequestHeaders } from "./headers";
import { replyLocal } from "./local-reply";
import type { PoolRuntime } from "./pool-runtime";
import { ClientAbortError, UpstreamTimeoutError } from "./proxy-errors";
import { normalizeHost, type RouteTable } from "./route-table";
import { forwardBody } from "./stream-forward";
import type { DataPlaneTimeouts } from "./timeouts";
import { classifyUpstreamFailure } from "./upstream-failure";

export interface HttpProxyContext {
  readonly table: RouteTable;
  readonly timeouts: DataPlaneTimeouts;
  readonly log: Logger;
}

const RETRYABLE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: string;
  readonly headers: string[];
  readonly clientIp: string;
  readonly bodyless: boolean;
  clientGone: boolean;
  upstream: ClientRequest | undefined;
}

export function handleHttpRequest(ctx: HttpProxyContext, req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const route = ctx.table.match(normalizeHost(req.headers.host), q === -1 ? url : url.slice(0, q));
  if (!route) {
    replyLocal(res, 404, "no-route", "no route for this host and path");
    return;
  }

  const clientIp = clientIpOf(req.socket.remoteAddress);
  const ex: Exchange = {
    req,
    res,
    url,
    headers: upstreamRequestHeaders(req.rawHeaders, { clientIp, proto: "http", host: req.headers.host }),
    clientIp,
    bodyless:
      req.headers["transfer-encoding"] === undefined && (req.headers["content-length"] ?? "0") === "0",
    clientGone: false,
    upstream: undefined,
  };
  // Client-side failures end here: nobody is left to answer, so they are not upstream errors.
  req.on("error", () => {});
  res.once("close", () => {
    if (res.writableFinished) return;
    ex.clientGone = true;
    ex.upstream?.destroy(new ClientAbortError("client closed before the response was complete"));
  });
  attempt(ctx, ex, route.pool, 0);
}

function attempt(ctx: HttpProxyContext, ex: Exchange, pool: PoolRuntime, retries: number): void {
  const { req, res } = ex;
  const backend = pool.pick(ex.clientIp);
  if (!backend) {
    replyLocal(res, 503, "no-backend", "no backend available");
    return;
  }
  const done = backend.begin();
  const t = ctx.timeouts;

  const upstream = request({
    host: backend.address,
    port: backend.port,
    method: req.method,
    path: ex.url,
    headers: ex.headers,
    agent: backend.agent,
    setHost: false,
  });
  ex.upstream = upstream;

  let phase: "connect" | "response" | undefined;
  let timer: NodeJS.Timeout | undefined;
  const arm = (p: "connect" | "response", ms: number) => {
    clearTimeout(timer);
    phase = p;
    timer = setTimeout(() => upstream.destroy(new UpstreamTimeoutError(p, ms)), ms);
  };
  const disarm = () => {
    clearTimeout(timer);
    phase = undefined;
  };
  upstream.once("socket", (socket) => {
    if (!socket.connecting) return;
    arm("connect", t.upstreamConnectMs);
    socket.once("connect", () => {
      if (phase === "connect") disarm();
    });
  });
  upstream.once("finish", () => arm("response", t.upstreamResponseMs));
  upstream.setTimeout(t.idleMs, () => upstream.destroy(new UpstreamTimeoutError("idle", t.idleMs)));

  upstream.once("response", (ures) => {
    disarm();
    ures.once("close", () => {
      done();
      // The backend went away mid-body; the client must not mistake a cut body for a whole one.
      if (!ures.complete) res.destroy();
    });
    ures.on("error", () => {});
    res.writeHead(ures.statusCode ?? 502, ures.statusMessage, downstreamResponseHeaders(ures.rawHeaders));
    forwardBody(ures, res, () => res.end());
  });

  upstream.on("error", (err) => {
    disarm();
    done();
    if (ex.clientGone) {
      ctx.log.debug("client went away", { backend: backend.id, code: errorCode(err) });
      return;
    }
    if (
      retries === 0 &&
      ex.bodyless &&
      !res.headersSent &&
      upstream.reusedSocket &&
      RETRYABLE_METHODS.has(req.method ?? "") &&
      ((err as NodeJS.ErrnoException).code === "ECONNRESET" ||
        (err as NodeJS.ErrnoException).code === "EPIPE")
    ) {
      // A pooled connection the backend had just closed; the request never reached it.
      return attempt(ctx, ex, pool, retries + 1);
    }
    const { status, reason } = classifyUpstreamFailure(err);
    ctx.log.warn("upstream request failed", {
      pool: pool.name,
      backend: backend.id,
      upstream: `${backend.address}:${backend.port}`,
      reason,
      error: errorMessage(err),
    });
    replyLocal(res, status, reason, status === 504 ? "upstream timed out" : "upstream unreachable");
  });

  if (ex.bodyless) upstream.end();
  else forwardBody(req, upstream, () => upstream.end());
}
