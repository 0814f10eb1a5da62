import { type ClientRequest, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import { errorCode, errorMessage } from "../../../errors";
import type { Logger } from "../../../log";
import type { Lease, Outcome } from "../../exchange";
import { type BodyPaceFailure, BodyPacer } from "../../http/body-pacer";
import { type ClientProtocol, type ClientReq, type ClientRes, clientRes } from "../../http/client-side";
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
import { acmeTokenAnswer } from "../acme/challenge-answer";
import { DEFAULT_H1_OPTIONS } from "../h1/options";
import { h2TrailerObject } from "../h2/h2-response-head";
import { httpsLocation } from "../redirect/https-redirect";
import { decideRedirect, redirectHeaders } from "../redirect/redirect";
import { NODE_HTTP1 } from "./node-request-target";
import { forwardBody } from "./stream-forward";

export interface HttpProxyContext {
  readonly table: RouteTable;
  readonly timeouts: DataPlaneTimeouts;
  readonly log: Logger;
  /** The client's protocol; absent: HTTP/1.1 through node:http. */
  readonly side?: ClientProtocol;
}

const NO_FIELDS: ReadonlyArray<readonly [string, string]> = [];

/** Methods whose request may be sent twice (RFC 9110 §9.2.2), when no body was streamed yet. */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);

interface UpstreamTimes {
  readonly connectMs: number;
  readonly responseMs: number;
  readonly idleMs: number;
}

interface Exchange {
  readonly req: ClientReq;
  readonly res: ClientRes;
  readonly side: ClientProtocol;
  /** The listener's own response fields (Strict-Transport-Security on TLS listeners). */
  readonly fields: ReadonlyArray<readonly [string, string]>;
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

export function handleHttpRequest(
  ctx: HttpProxyContext,
  req: IncomingMessage | Http2ServerRequest,
  response: ServerResponse | Http2ServerResponse,
): void {
  const res = clientRes(response);
  const side = ctx.side ?? NODE_HTTP1;
  const table = ctx.table;
  const cfg = table.config;
  const lstats = cfg?.stats;
  if (side.countsConnectionPerRequest) countOnFirstRequest(lstats, req.socket as Socket);
  if (lstats) lstats.requests++;
  const target = side.target(req);
  const teStatus = side.transferCodingStatus(req);
  const maxBodyBytes = cfg?.maxBodyBytes ?? DEFAULT_H1_OPTIONS.maxBodyBytes;
  const fields = cfg?.tls?.hsts ? ([["strict-transport-security", cfg.tls.hsts]] as const) : NO_FIELDS;
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
    replyLocal(res, refusal[0], refusal[1], refusal[2], side.closesOnRefusal, fields);
    return;
  }
  const url = target!.url;
  const method = req.method ?? "GET";
  if (cfg?.acmeTokens && answerAcme(res, cfg.acmeTokens, method, url, target!.host ?? "", lstats)) return;
  if (cfg?.redirectToHttps) {
    redirectToHttps(req, res, cfg.redirectToHttps, url, target!.host ?? "", lstats, side);
    return;
  }
  const q = url.indexOf("?");
  const path = q === -1 ? url : url.slice(0, q);
  const host = normalizeHost(target!.host);
  const route = table.match(host, path);
  if (!route) {
    if (lstats) countResponse(404, lstats);
    replyLocal(res, 404, "no-route", "no route for this host and path", false, fields);
    return;
  }
  const pool = route.pool;
  if (route.stats) route.stats.requests++;
  pool.counters.requests++;

  const clientIp = clientIpOf(req.socket.remoteAddress);
  if (route.action === "redirect") {
    redirect(req, res, route, url, new NodeRequestFacts(req, method, path, host, clientIp), lstats, fields);
    return;
  }
  const t = ctx.timeouts;
  const bodyless = side.bodyless(req);
  const headers = upstreamRequestHeaders(side.rawHeaders(req), {
    clientIp,
    proto: cfg?.tls ? "https" : "http",
    host: target!.host,
    trust: cfg?.trustForwarded,
    ...(target!.absolute ? { replaceHost: target!.host } : {}),
  });
  // A body without a length (HTTP/2 DATA frames) goes to HTTP/1.1 chunked; node:http would not frame a GET's.
  if (
    !bodyless &&
    req.headers["content-length"] === undefined &&
    req.headers["transfer-encoding"] === undefined
  )
    headers.push("Transfer-Encoding", "chunked");
  const ex: Exchange = {
    req,
    res,
    side,
    fields,
    url,
    method,
    headers,
    facts: new NodeRequestFacts(req, method, path, host, clientIp),
    bodyless,
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
  // Http2ServerResponse has the same head/write/trailers/end members (an HTTP/2 client of an h2 pool).
  const sink = nodeResponseSink(res as unknown as ServerResponse, (n) => {
    ex.bytesOut += n;
  });
  sink.abort = () => ex.side.cut(res);
  const head = sink.head;
  sink.head = (status, headers) => {
    ex.responded = true;
    countResponse(status, ex.listenerStats, ex.route.stats, ex.route.pool.counters);
    if (ex.fields.length > 0) dropFields(headers, ex.fields);
    head(status, withFields(headers, ex.fields));
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
  req: ClientReq,
  res: ClientRes,
  route: CompiledRoute,
  url: string,
  facts: NodeRequestFacts,
  lstats: TrafficCounters | undefined,
  fields: ReadonlyArray<readonly [string, string]>,
): void {
  req.on("error", () => {});
  req.resume();
  const d = decideRedirect(route, url, facts);
  countResponse(d.status, lstats, route.stats, route.pool.counters);
  if (d.kind === "local") replyLocal(res, d.status, d.reason, d.text, false, fields);
  else {
    res.writeHead(d.status, withFields(Object.entries(redirectHeaders(d)).flat(), fields));
    res.end();
  }
}

const withFields = (headers: string[], fields: ReadonlyArray<readonly [string, string]>): string[] => {
  for (const [name, value] of fields) headers.push(name, value);
  return headers;
};

/** An ACME HTTP-01 token (plain listeners), answered before routing as the h1 front end does; false: not one. */
function answerAcme(
  res: ClientRes,
  tokens: NonNullable<NonNullable<RouteTable["config"]>["acmeTokens"]>,
  method: string,
  url: string,
  host: string,
  lstats: TrafficCounters | undefined,
): boolean {
  const body = acmeTokenAnswer(tokens, method, url, host);
  if (body === undefined) return false;
  countResponse(200, lstats);
  res.writeHead(200, ["content-type", "text/plain", "content-length", String(body.length)]);
  res.end(method === "HEAD" ? undefined : body);
  return true;
}

/** A plain listener's redirect to https (redirect/https-redirect.ts); a Host that is no host name gets 400. */
function redirectToHttps(
  req: ClientReq,
  res: ClientRes,
  to: { readonly status: 301 | 308; readonly port: number },
  url: string,
  host: string,
  lstats: TrafficCounters | undefined,
  side: ClientProtocol,
): void {
  req.on("error", () => {});
  const location = httpsLocation(host, url, to.port);
  if (location === undefined) {
    countResponse(400, lstats);
    replyLocal(
      res,
      400,
      "bad-request",
      "the Host header is not a host name or address",
      side.closesOnRefusal,
    );
    return;
  }
  req.resume();
  countResponse(to.status, lstats);
  res.writeHead(to.status, ["location", location, "content-length", "0"]);
  res.end();
}

function local(ex: Exchange, status: number, reason: LocalReason, text: string, close = false): void {
  if (!ex.res.headersSent) {
    ex.responded = true;
    countResponse(status, ex.listenerStats, ex.route.stats, ex.route.pool.counters);
  }
  replyLocal(ex.res, status, reason, text, close && ex.side.closesOnRefusal, ex.fields);
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
    ex.side.cut(ex.res);
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
    let reported = false;
    const status = ures.statusCode ?? 502;
    const latencyMs = performance.now() - started;
    ures.once("close", () => {
      if (reported) return;
      const bytes = { fromClient: ex.bytesIn, toClient: ex.bytesOut };
      if (ex.clientGone || ex.refused) lease.finish({ kind: "client-aborted" }, bytes);
      else if (!ures.complete) {
        lease.finish({ kind: "failed-after-response", error: new Error("backend closed mid-body") }, bytes);
        // The backend went away mid-body; the client must not mistake a cut body for a whole one.
        ex.side.cut(res);
      } else lease.finish({ kind: "response", status, latencyMs }, bytes);
    });
    ures.on("error", () => {});
    const headers = downstreamResponseHeaders(ures.rawHeaders);
    for (const [name, value] of lease.responseHeaders) headers.push(name, value);
    // The listener's fields replace a backend's own of the same name (HSTS: never doubled).
    if (ex.fields.length > 0) dropFields(headers, ex.fields);
    withFields(headers, ex.fields);
    const bad = ex.side.badResponseHead?.(status, headers);
    if (bad !== undefined) {
      // Reported once here; the close handler above must not report it again.
      reported = true;
      lease.finish({
        kind: "failed-before-response",
        error: new Error(`bad response: ${bad}`),
        timeout: false,
      });
      ures.destroy();
      ctx.log.debug("backend response refused", { backend: backend.id, why: bad });
      local(ex, 502, "upstream-error", "bad response from upstream");
      return;
    }
    ex.responded = true;
    countResponse(status, ex.listenerStats, ex.route.stats, ex.route.pool.counters);
    if (ex.side.reasonPhrase)
      (res as unknown as ServerResponse).writeHead(status, ures.statusMessage, headers);
    else res.writeHead(status, headers);
    forwardBody(
      ures,
      res,
      () => {
        // HTTP/1.1 chunked trailers become HTTP/2 trailers (RFC 9113 §8.1).
        if (ex.side.forwardsTrailers && ures.rawTrailers.length > 0) {
          (res as unknown as Http2ServerResponse).addTrailers(
            h2TrailerObject(trailerObject(ures.rawTrailers)),
          );
        }
        res.end();
      },
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

/** Removes from `headers` (name/value pairs) every field named in `fields`. */
function dropFields(headers: string[], fields: ReadonlyArray<readonly [string, string]>): void {
  const names = new Set(fields.map(([n]) => n.toLowerCase()));
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    if (names.has(headers[i]!.toLowerCase())) headers.splice(i, 2);
  }
}

/** Raw trailer pairs as an object, hop-by-hop and framing fields left out (RFC 9110 §6.5.1). */
function trailerObject(raw: readonly string[]): Record<string, string[]> {
  const kept = downstreamResponseHeaders(raw);
  const out: Record<string, string[]> = {};
  for (let i = 0; i < kept.length; i += 2) {
    const name = kept[i]!.toLowerCase();
    if (name === "content-length" || name === "host") continue;
    const list = out[name] ?? [];
    list.push(kept[i + 1]!);
    out[name] = list;
  }
  return out;
}
