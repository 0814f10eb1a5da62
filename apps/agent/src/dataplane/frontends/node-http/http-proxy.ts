import { type ClientRequest, type IncomingMessage, request, type ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import { errorCode, errorMessage } from "../../../errors";
import type { Logger } from "../../../log";
import type { Lease, Outcome } from "../../exchange";
import { type BodyPaceFailure, BodyPacer } from "../../http/body-pacer";
import { clientIpOf, downstreamResponseHeaders, upstreamRequestHeaders } from "../../http/headers";
import { type LocalReason, replyLocal } from "../../http/local-reply";
import { ClientAbortError, UpstreamTimeoutError } from "../../http/proxy-errors";
import { NodeRequestFacts } from "../../http/request-facts";
import { classifyUpstreamFailure } from "../../http/upstream-failure";
import type { BackendRuntime } from "../../pools/backend-runtime";
import { type CompiledRoute, normalizeHost, type RouteTable } from "../../pools/route-table";
import {
  countAborted,
  countBytes,
  countConnection,
  countResponse,
  type TrafficCounters,
} from "../../stats/counters";
import type { DataPlaneTimeouts } from "../../timeouts";
import { forwardH2 } from "../../upstream-h2/forward";
import { nodeResponseSink } from "../../upstream-h2/node-sink";
import type { H2PoolUpstream } from "../../upstream-h2/pool-upstream";
import type { Trailers } from "../../upstream-h2/translate";
import { DEFAULT_H1_OPTIONS } from "../h1/options";
import { decideRedirect, redirectHeaders } from "../redirect/redirect";
import { nodeRequestTarget, transferCodingStatus } from "./node-request-target";
import { forwardBody } from "./stream-forward";

export interface HttpProxyContext {
  readonly table: RouteTable;
  readonly timeouts: DataPlaneTimeouts;
  readonly log: Logger;
}

/** Methods whose request may be sent twice (RFC 9110 §9.2.2), when no body was streamed yet. */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);

interface UpstreamTimes {
  readonly connectMs: number;
  readonly responseMs: number;
  readonly idleMs: number;
}

interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: string;
  readonly method: string;
  readonly headers: string[];
  readonly facts: NodeRequestFacts;
  readonly bodyless: boolean;
  readonly route: CompiledRoute;
  readonly listenerStats: TrafficCounters | undefined;
  readonly times: UpstreamTimes;
  readonly acquireOpts: { exclude?: ReadonlySet<string>; routeId: string; signal?: AbortSignal };
  /** Only when the pool may queue: a client that leaves gives up its place. */
  readonly abort: AbortController | undefined;
  clientGone: boolean;
  /** A response head (the backend's or ours) went out and was counted. */
  responded: boolean;
  /** The request body started flowing to a backend: no retry after this. */
  bodyStarted: boolean;
  staleRetried: boolean;
  retries: number;
  /** Why the previous attempt failed: the answer if no other backend is left to retry on. */
  lastError: Error | undefined;
  /** The proxy ended the request itself (body too large, too slow, paused too long): the backend side is cut. */
  refused: boolean;
  /** The listener's maxBodyBytes (0 = none). */
  readonly maxBodyBytes: number;
  pacer: BodyPacer | undefined;
  bytesIn: number;
  bytesOut: number;
  upstream: ClientRequest | undefined;
  /** The client's Host as sent: :authority for HTTP/2 backends. */
  readonly authority: string;
  /** Cancels the HTTP/2 upstream attempt in progress (pools with upstream h2/h2c). */
  cancelH2: (() => void) | undefined;
}

const kCounted = Symbol("fulcrum.connectionCounted");

/** node:http hides accepts from us: a client connection is counted at its first request. */
function countOnFirstRequest(stats: TrafficCounters | undefined, socket: Socket): void {
  const s = socket as Socket & { [kCounted]?: true };
  if (!stats || s[kCounted]) return;
  s[kCounted] = true;
  countConnection(stats, socket);
}

export function handleHttpRequest(ctx: HttpProxyContext, req: IncomingMessage, res: ServerResponse): void {
  const table = ctx.table;
  const lstats = table.config?.stats;
  countOnFirstRequest(lstats, req.socket);
  if (lstats) lstats.requests++;
  const target = nodeRequestTarget(req);
  const teStatus = transferCodingStatus(req);
  const cfg = table.config;
  const maxBodyBytes = cfg?.maxBodyBytes ?? DEFAULT_H1_OPTIONS.maxBodyBytes;
  const refusal =
    target === undefined || teStatus === 400
      ? ([400, "bad-request", "malformed request"] as const)
      : teStatus === 501
        ? ([501, "unsupported-transfer-coding", "only chunked transfer coding is supported"] as const)
        : maxBodyBytes > 0 && Number(req.headers["content-length"] ?? 0) > maxBodyBytes
          ? ([413, "body-too-large", "request body too large"] as const)
          : undefined;
  if (refusal !== undefined) {
    // Refused before any backend is chosen; the body is not read, so the connection closes.
    if (lstats) countResponse(refusal[0], lstats);
    replyLocal(res, refusal[0], refusal[1], refusal[2], true);
    return;
  }
  const url = target!.url;
  const q = url.indexOf("?");
  const path = q === -1 ? url : url.slice(0, q);
  const host = normalizeHost(target!.host);
  const route = table.match(host, path);
  if (!route) {
    if (lstats) countResponse(404, lstats);
    replyLocal(res, 404, "no-route", "no route for this host and path");
    return;
  }
  const pool = route.pool;
  if (route.stats) route.stats.requests++;
  pool.counters.requests++;

  const clientIp = clientIpOf(req.socket.remoteAddress);
  const method = req.method ?? "GET";
  if (route.action === "redirect") {
    redirect(req, res, route, url, new NodeRequestFacts(req, method, path, host, clientIp), lstats);
    return;
  }
  const t = ctx.timeouts;
  const ex: Exchange = {
    req,
    res,
    url,
    method,
    headers: upstreamRequestHeaders(req.rawHeaders, {
      clientIp,
      // A TLS client connection handed over by the h1 front end (h1/h2-bridge.ts) says it is encrypted.
      proto: (req.socket as { encrypted?: boolean }).encrypted === true ? "https" : "http",
      host: target!.host,
      trust: ctx.table.config?.trustForwarded,
      ...(target!.absolute ? { replaceHost: target!.host } : {}),
    }),
    facts: new NodeRequestFacts(req, method, path, host, clientIp),
    bodyless:
      req.headers["transfer-encoding"] === undefined && (req.headers["content-length"] ?? "0") === "0",
    route,
    listenerStats: lstats,
    times: cfg
      ? cfg.timeouts
      : { connectMs: t.upstreamConnectMs, responseMs: t.upstreamResponseMs, idleMs: t.idleMs },
    acquireOpts: { routeId: route.id },
    abort: pool.mayQueue ? new AbortController() : undefined,
    clientGone: false,
    responded: false,
    bodyStarted: false,
    staleRetried: false,
    retries: 0,
    lastError: undefined,
    refused: false,
    maxBodyBytes,
    pacer: undefined,
    bytesIn: 0,
    bytesOut: 0,
    upstream: undefined,
    authority: target!.host ?? "",
    cancelH2: undefined,
  };
  if (ex.abort) ex.acquireOpts.signal = ex.abort.signal;
  // Client-side failures end here: nobody is left to answer, so they are not upstream errors.
  req.on("error", () => {});
  res.once("close", () => {
    ex.pacer?.stop();
    countBytes(ex.bytesIn, ex.bytesOut, lstats, route.stats, pool.counters);
    if (!ex.responded) countAborted(lstats, route.stats, pool.counters);
    if (res.writableFinished) return;
    ex.clientGone = true;
    ex.abort?.abort();
    ex.upstream?.destroy(new ClientAbortError("client closed before the response was complete"));
    ex.cancelH2?.();
  });
  next(ctx, ex);
}

/** The request body's pacing and size limit, started when its first attempt starts. */
function startPacer(ctx: HttpProxyContext, ex: Exchange): BodyPacer {
  if (ex.pacer !== undefined) return ex.pacer;
  const cfg = ctx.table.config;
  const pacer = new BodyPacer(
    cfg?.timeouts.bodyMs ?? DEFAULT_H1_OPTIONS.timeouts.bodyMs,
    cfg?.minBodyBytesPerSecond ?? DEFAULT_H1_OPTIONS.minBodyBytesPerSecond,
    () => ex.req.isPaused(),
    (why) => refuseBody(ex, why),
  );
  ex.pacer = pacer;
  pacer.start();
  ex.req.once("end", () => pacer.stop());
  return pacer;
}

/** One attempt on a backend of an HTTP/2 pool (upstream h2/h2c): upstream-h2/forward.ts does the exchange. */
function attemptH2(ctx: HttpProxyContext, ex: Exchange, lease: Lease, h2: H2PoolUpstream): void {
  const { req, res } = ex;
  const backend = lease.backend;
  const pacer = ex.bodyless ? undefined : startPacer(ctx, ex);
  const sink = nodeResponseSink(res, (n) => {
    ex.bytesOut += n;
  });
  const head = sink.head;
  sink.head = (status, headers) => {
    ex.responded = true;
    countResponse(status, ex.listenerStats, ex.route.stats, ex.route.pool.counters);
    head(status, headers);
  };
  const request = {
    method: ex.method,
    path: ex.url,
    authority: ex.authority,
    headers: ex.headers,
    body: ex.bodyless ? undefined : req,
    trailers: () => (Object.keys(req.trailers).length > 0 ? (req.trailers as Trailers) : undefined),
    onBodyBytes: (n: number) => {
      ex.bodyStarted = true;
      ex.bytesIn += n;
      pacer?.onBytes(n);
      if (ex.maxBodyBytes > 0 && ex.bytesIn > ex.maxBodyBytes) refuseBody(ex, "body-too-large");
    },
  };
  const a = forwardH2(lease, h2.group(backend), request, ex.times, sink, (err, retry) => {
    ex.cancelH2 = undefined;
    if (ex.clientGone || ex.refused) return;
    const pool = ex.route.pool;
    const allowed = retry === "any" || (retry === "idempotent" && ex.bodyless && IDEMPOTENT.has(ex.method));
    if (!res.headersSent && allowed && pool.mayRetry(ex.retries + 1)) {
      ex.retries++;
      ex.lastError = err;
      const tried = new Set(ex.acquireOpts.exclude);
      tried.add(backend.key);
      ex.acquireOpts.exclude = tried;
      ctx.log.debug("retrying on another backend", {
        pool: pool.name,
        failed: backend.key,
        code: errorCode(err),
      });
      next(ctx, ex);
      return;
    }
    const { status, reason } = classifyUpstreamFailure(err);
    ctx.log.warn("upstream request failed", {
      pool: pool.name,
      backend: backend.id,
      upstream: backend.key,
      reason,
      error: errorMessage(err),
    });
    local(ex, status, reason, status === 504 ? "upstream timed out" : "upstream unreachable");
  });
  ex.cancelH2 = () => a.cancel();
}

/** A redirect route: 302/307 to the chosen backend's public URL; the request body is discarded, never forwarded. */
function redirect(
  req: IncomingMessage,
  res: ServerResponse,
  route: CompiledRoute,
  url: string,
  facts: NodeRequestFacts,
  lstats: TrafficCounters | undefined,
): void {
  req.on("error", () => {});
  req.resume();
  const d = decideRedirect(route, url, facts);
  countResponse(d.status, lstats, route.stats, route.pool.counters);
  if (d.kind === "local") replyLocal(res, d.status, d.reason, d.text);
  else {
    res.writeHead(d.status, redirectHeaders(d));
    res.end();
  }
}

function local(ex: Exchange, status: number, reason: LocalReason, text: string, close = false): void {
  if (!ex.res.headersSent) {
    ex.responded = true;
    countResponse(status, ex.listenerStats, ex.route.stats, ex.route.pool.counters);
  }
  replyLocal(ex.res, status, reason, text, close);
}

/**
 * The request body broke a listener limit: the backend's half a request is
 * cut; the client hears 413/408, or loses its connection once a response started.
 */
function refuseBody(ex: Exchange, why: "body-too-large" | BodyPaceFailure): void {
  if (ex.refused) return;
  ex.refused = true;
  ex.pacer?.stop();
  ex.upstream?.destroy();
  ex.cancelH2?.();
  if (ex.res.headersSent) {
    ex.res.destroy();
    return;
  }
  ex.req.pause();
  if (why === "body-too-large") local(ex, 413, why, "request body too large", true);
  else
    local(
      ex,
      408,
      why,
      why === "body-timeout"
        ? "request body not received in time"
        : "request body slower than the minimum rate",
      true,
    );
}

function next(ctx: HttpProxyContext, ex: Exchange): void {
  ex.route.pool.acquire(ex.facts, ex.acquireOpts).then(
    (r) => {
      if (ex.clientGone) {
        if (r.ok) r.lease.finish({ kind: "client-aborted" });
        return;
      }
      if (!r.ok && r.reason === "no-backend" && ex.lastError) {
        const { status, reason } = classifyUpstreamFailure(ex.lastError);
        local(ex, status, reason, status === 504 ? "upstream timed out" : "upstream unreachable");
        return;
      }
      if (!r.ok) {
        local(
          ex,
          503,
          r.reason,
          r.reason === "no-backend" ? "no backend available" : "all backends are busy",
        );
        return;
      }
      attempt(ctx, ex, r.lease);
    },
    (e) => {
      ctx.log.error("pool acquire failed", { pool: ex.route.pool.name, error: errorMessage(e) });
      local(ex, 503, "no-backend", "no backend available");
    },
  );
}

function attempt(ctx: HttpProxyContext, ex: Exchange, lease: Lease): void {
  const h2 = ex.route.pool.upstreamH2;
  if (h2 !== undefined) {
    attemptH2(ctx, ex, lease, h2);
    return;
  }
  const { req, res } = ex;
  const backend = lease.backend as BackendRuntime;
  const t = ex.times;
  const started = performance.now();

  // An https.Agent (TLS pool) needs https.request: node:http refuses its protocol.
  const upstream = (backend.tls ? httpsRequest : request)({
    host: backend.address,
    port: backend.port,
    method: ex.method,
    path: ex.url,
    headers: ex.headers,
    agent: backend.agent,
    setHost: false,
  });
  ex.upstream = upstream;

  let connected = false;
  let gotResponse = false;
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
  // The body waits for a connection, so a connect failure leaves it unread and the request retryable.
  const sendBody = () => {
    connected = true;
    if (ex.bodyless) return;
    ex.bodyStarted = true;
    const cfg = ctx.table.config;
    const bodyMs = cfg?.timeouts.bodyMs ?? DEFAULT_H1_OPTIONS.timeouts.bodyMs;
    const minRate = cfg?.minBodyBytesPerSecond ?? DEFAULT_H1_OPTIONS.minBodyBytesPerSecond;
    const pacer = new BodyPacer(
      bodyMs,
      minRate,
      () => req.isPaused(),
      (why) => refuseBody(ex, why),
    );
    ex.pacer = pacer;
    pacer.start();
    req.once("end", () => pacer.stop());
    forwardBody(
      req,
      upstream,
      () => upstream.end(),
      (n) => {
        ex.bytesIn += n;
        pacer.onBytes(n);
        if (ex.maxBodyBytes > 0 && ex.bytesIn > ex.maxBodyBytes) refuseBody(ex, "body-too-large");
      },
    );
  };
  upstream.once("socket", (socket) => {
    // A pooled socket is ready; a new TLS one only after its handshake.
    if (upstream.reusedSocket || (backend.tls === undefined && !socket.connecting)) return sendBody();
    arm("connect", t.connectMs);
    socket.once(backend.tls !== undefined ? "secureConnect" : "connect", () => {
      if (phase === "connect") disarm();
      sendBody();
    });
  });
  upstream.once("finish", () => arm("response", t.responseMs));
  upstream.setTimeout(t.idleMs, () => upstream.destroy(new UpstreamTimeoutError("idle", t.idleMs)));

  upstream.once("response", (ures) => {
    disarm();
    gotResponse = true;
    const status = ures.statusCode ?? 502;
    const latencyMs = performance.now() - started;
    ures.once("close", () => {
      const bytes = { fromClient: ex.bytesIn, toClient: ex.bytesOut };
      if (ex.clientGone || ex.refused) lease.finish({ kind: "client-aborted" }, bytes);
      else if (!ures.complete) {
        lease.finish({ kind: "failed-after-response", error: new Error("backend closed mid-body") }, bytes);
        // The backend went away mid-body; the client must not mistake a cut body for a whole one.
        res.destroy();
      } else lease.finish({ kind: "response", status, latencyMs }, bytes);
    });
    ures.on("error", () => {});
    const headers = downstreamResponseHeaders(ures.rawHeaders);
    for (const [name, value] of lease.responseHeaders) headers.push(name, value);
    ex.responded = true;
    countResponse(status, ex.listenerStats, ex.route.stats, ex.route.pool.counters);
    res.writeHead(status, ures.statusMessage, headers);
    forwardBody(
      ures,
      res,
      () => res.end(),
      (n) => {
        ex.bytesOut += n;
      },
    );
  });

  if (ex.bodyless) upstream.end();

  upstream.on("error", (err) => {
    disarm();
    if (gotResponse) return; // the response's close handler reports it
    if (ex.clientGone || ex.refused) {
      lease.finish({ kind: "client-aborted" });
      ctx.log.debug("client went away", { backend: backend.id, code: errorCode(err) });
      return;
    }
    const code = (err as NodeJS.ErrnoException).code;
    const outcome: Outcome = !connected
      ? { kind: "connect-failed", error: err }
      : { kind: "failed-before-response", error: err, timeout: err instanceof UpstreamTimeoutError };
    lease.finish(outcome);
    const pool = ex.route.pool;
    const replayable = ex.bodyless || !ex.bodyStarted;
    if (!res.headersSent && replayable) {
      if (
        !ex.staleRetried &&
        upstream.reusedSocket &&
        ex.bodyless &&
        IDEMPOTENT.has(ex.method) &&
        (code === "ECONNRESET" || code === "EPIPE")
      ) {
        // A pooled connection the backend had just closed; the request never reached it. Free, once.
        ex.staleRetried = true;
        return next(ctx, ex);
      }
      const retryable = outcome.kind === "connect-failed" || (ex.bodyless && IDEMPOTENT.has(ex.method));
      if (retryable && pool.mayRetry(ex.retries + 1)) {
        ex.retries++;
        ex.lastError = err;
        const tried = new Set(ex.acquireOpts.exclude);
        tried.add(backend.key);
        ex.acquireOpts.exclude = tried;
        ctx.log.debug("retrying on another backend", { pool: pool.name, failed: backend.key, code });
        return next(ctx, ex);
      }
    }
    const { status, reason } = classifyUpstreamFailure(err);
    ctx.log.warn("upstream request failed", {
      pool: pool.name,
      backend: backend.id,
      upstream: backend.key,
      reason,
      error: errorMessage(err),
    });
    local(ex, status, reason, status === 504 ? "upstream timed out" : "upstream unreachable");
  });
}
