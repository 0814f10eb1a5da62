/**
 * One attempt of one request on a backend over HTTP/2 (pool upstream
 * protocol `h2` or `h2c`), for every front end: the node:http one (HTTP/1.1
 * clients), the h1 one (through its bridge) and the HTTP/2 front end.
 *
 *   const attempt = forwardH2(lease, group, request, times, sink, onFailed);
 *   attempt.cancel();   // the client went away: the stream is reset, outcome client-aborted
 *
 * - `lease`: from PoolHandle.acquire; its Outcome is reported here, exactly
 *   once, as the h1 attempt does (connect-failed, failed-before-response,
 *   response, failed-after-response, client-aborted), with body byte counts.
 * - `group`: the backend's session group, `sessionGroupFor(pool, lease.backend)`.
 * - `request`: method, :path, :authority (the client's Host), the header pairs
 *   upstreamRequestHeaders() made (hop-by-hop already gone; Host is dropped
 *   here, names lower-cased), the body as a Readable (undefined: none) and
 *   the client's trailers, read once the body ended; both ways stream with
 *   back-pressure.
 * - `sink`: where the response goes (nodeResponseSink() for a ServerResponse
 *   or Http2ServerResponse). Its head is written once, with the lease's
 *   response headers added; then data; then end(trailers).
 * - `onFailed(err, retry)`: the attempt failed before any response byte;
 *   the outcome is reported already. `retry` says what may be sent again:
 *   "any" (the connection never came up, or the backend refused the stream
 *   unprocessed), "idempotent" (no body byte went: an idempotent method may
 *   go to another backend), "none". The caller asks the pool (mayRetry) or
 *   answers 502/504 (a gRPC status for gRPC requests). After the head,
 *   failures go to the sink: abort(), or for gRPC end() with UNAVAILABLE
 *   trailers (the call fails cleanly; a reset would read as INTERNAL).
 *
 * `grpc-timeout` on the request bounds the whole upstream wait: before the
 * response head it fails the attempt with a GrpcDeadlineError (not
 * retryable); after it, the client's response ends with DEADLINE_EXCEEDED.
 */

import type { ClientHttp2Stream, IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import { constants } from "node:http2";
import type { Readable } from "node:stream";
import type { Lease } from "../exchange";
import { UpstreamProtocolError, UpstreamTimeoutError } from "../http/proxy-errors";
import {
  GRPC_DEADLINE_EXCEEDED,
  GRPC_UNAVAILABLE,
  GrpcDeadlineError,
  grpcMessage,
  grpcTimeoutMs,
  isGrpcContentType,
} from "./grpc";
import type { H2SessionGroup } from "./session-pool";
import {
  H2RequestHeaderError,
  h2RequestHeaders,
  h2ResponseHeaders,
  type Trailers,
  trailerPairs,
} from "./translate";

export interface H2Request {
  readonly method: string;
  /** The request target (path and query), sent as :path. */
  readonly path: string;
  /** The client's Host (or :authority), sent as :authority. */
  readonly authority: string;
  /** Raw pairs [name, value, ...] from upstreamRequestHeaders(). */
  readonly headers: readonly string[];
  readonly body: Readable | undefined;
  /** The client's trailers, asked once after the body ended (IncomingMessage#trailers). */
  readonly trailers?: () => Trailers | undefined;
  /** Each request body chunk's size, as it is read (pacing, limits, counters). */
  readonly onBodyBytes?: (n: number) => void;
}

export interface H2Times {
  readonly connectMs: number;
  /** From the request sent whole to the response head. */
  readonly responseMs: number;
  /** No frame either way on the stream. */
  readonly idleMs: number;
}

/** Where the response goes; head() is called at most once, before any write(). */
export interface H2Sink {
  head(status: number, headers: string[]): void;
  /** false: stop until the drain callback runs. */
  write(chunk: Buffer): boolean;
  onceDrain(fn: () => void): void;
  end(trailers: Trailers | undefined): void;
  /** A failure after the head: the client's response is cut (nothing else is honest). */
  abort(): void;
}

/** What a failed attempt allows: see onFailed above. */
export type H2Retry = "any" | "idempotent" | "none";

export interface H2Attempt {
  /** The client went away: the upstream stream is cancelled, outcome client-aborted. */
  cancel(): void;
}

export function forwardH2(
  lease: Lease,
  group: H2SessionGroup,
  req: H2Request,
  times: H2Times,
  sink: H2Sink,
  onFailed: (err: Error, retry: H2Retry) => void,
): H2Attempt {
  let headers: OutgoingHttpHeaders;
  try {
    headers = h2RequestHeaders(req, group.settings.protocol);
  } catch (e) {
    // The client's head cannot be said in HTTP/2: its fault (400), nothing to charge the backend with.
    const err = e instanceof Error ? e : new H2RequestHeaderError(String(e));
    lease.finish({ kind: "client-aborted" }, { fromClient: 0, toClient: 0 });
    onFailed(err, "none");
    return { cancel() {} };
  }
  const conn = group.take();
  const started = performance.now();
  const grpc = isGrpcContentType(headers["content-type"]);
  const deadlineMs = grpc ? grpcTimeoutMs(headers["grpc-timeout"]) : undefined;
  let fromClient = 0;
  let toClient = 0;
  let bodySent = false;
  let headSeen = false;
  let settled = false;
  let status = 0;
  let headTimer: NodeJS.Timeout | undefined;
  let connectTimer: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  let trailers: Trailers | undefined;
  /** A gRPC "trailers-only" response: the status came in the head. */
  let statusInHead = false;

  const bytes = () => ({ fromClient, toClient });
  const clearTimers = () => {
    clearTimeout(headTimer);
    clearTimeout(connectTimer);
    clearTimeout(deadline);
  };

  let stream: ClientHttp2Stream;
  try {
    stream = conn.open(headers, req.body === undefined);
  } catch (e) {
    // Header values node:http2 refuses (they passed HTTP/1.1 parsing): a bad request, not a bad backend.
    settled = true;
    const err = new H2RequestHeaderError(
      `request head refused by HTTP/2: ${e instanceof Error ? e.message : String(e)}`,
    );
    lease.finish({ kind: "client-aborted" }, bytes());
    onFailed(err, "none");
    return { cancel() {} };
  }

  /** Before the head: report, stop the body, hand the decision to the caller. */
  const failBefore = (failure: Error) => {
    let err = failure;
    if (settled) return;
    settled = true;
    clearTimers();
    const connectFailed = !conn.connected;
    if (connectFailed) err = conn.connectError(err);
    if (connectFailed) lease.finish({ kind: "connect-failed", error: err }, bytes());
    else {
      lease.finish(
        {
          kind: "failed-before-response",
          error: err,
          timeout: err instanceof UpstreamTimeoutError || err instanceof GrpcDeadlineError,
        },
        bytes(),
      );
    }
    if (!stream.destroyed) stream.close(constants.NGHTTP2_CANCEL);
    // A refused stream (REFUSED_STREAM, GOAWAY past it) was not processed: as safe as a failed connect,
    // but only while no body byte went (the rest of a half-read body cannot be sent again whole).
    const refused = stream.rstCode === constants.NGHTTP2_REFUSED_STREAM && !bodySent;
    const retry: H2Retry =
      err instanceof GrpcDeadlineError
        ? "none"
        : connectFailed || refused
          ? "any"
          : bodySent
            ? "none"
            : "idempotent";
    onFailed(err, retry);
  };

  const failAfter = (err: Error) => {
    if (settled) return;
    settled = true;
    clearTimers();
    lease.finish({ kind: "failed-after-response", error: err }, bytes());
    if (!stream.destroyed) stream.close(constants.NGHTTP2_CANCEL);
    // A gRPC call's status lives in its trailers: a backend lost mid-call is UNAVAILABLE there
    // (a reset stream would read as INTERNAL); anything else is cut.
    if (grpc)
      sink.end({
        "grpc-status": String(GRPC_UNAVAILABLE),
        "grpc-message": grpcMessage(`upstream failed: ${err.message}`),
      });
    else sink.abort();
  };

  if (!conn.connected) {
    connectTimer = setTimeout(
      () => failBefore(new UpstreamTimeoutError("connect", times.connectMs)),
      times.connectMs,
    );
    conn.whenConnected(() => clearTimeout(connectTimer));
  }
  if (deadlineMs !== undefined) {
    deadline = setTimeout(() => {
      if (!headSeen) {
        failBefore(new GrpcDeadlineError(deadlineMs));
        return;
      }
      // The backend answered but did not finish in time: the client hears DEADLINE_EXCEEDED.
      if (settled) return;
      settled = true;
      clearTimers();
      lease.finish({ kind: "response", status, latencyMs: performance.now() - started }, bytes());
      if (!stream.destroyed) stream.close(constants.NGHTTP2_CANCEL);
      sink.end({ "grpc-status": String(GRPC_DEADLINE_EXCEEDED), "grpc-message": "Deadline Exceeded" });
    }, deadlineMs);
  }
  const armHead = () => {
    if (headSeen || settled) return;
    headTimer = setTimeout(
      () => failBefore(new UpstreamTimeoutError("response", times.responseMs)),
      times.responseMs,
    );
  };
  stream.setTimeout(times.idleMs, () => {
    const err = new UpstreamTimeoutError("idle", times.idleMs);
    if (headSeen) failAfter(err);
    else failBefore(err);
  });

  stream.on("error", (e: Error) => {
    if (headSeen) failAfter(e);
    else failBefore(e);
  });
  stream.on("close", () => {
    if (settled) return;
    const code = stream.rstCode ?? constants.NGHTTP2_NO_ERROR;
    const err = conn.error ?? new UpstreamProtocolError(`upstream stream closed (HTTP/2 error code ${code})`);
    if (headSeen) failAfter(err);
    else failBefore(err);
  });

  stream.on("response", (h: IncomingHttpHeaders) => {
    if (settled) return;
    const s = Number(h[":status"]);
    // 1xx interim heads are not forwarded (the client's own Expect is not passed on).
    if (s >= 100 && s < 200) return;
    headSeen = true;
    status = s;
    statusInHead = h["grpc-status"] !== undefined;
    clearTimeout(headTimer);
    const out = h2ResponseHeaders(h);
    for (const [name, value] of lease.responseHeaders) out.push(name, value);
    sink.head(s, out);
  });
  stream.on("trailers", (t: IncomingHttpHeaders) => {
    trailers = t as Trailers;
  });
  stream.on("data", (chunk: Buffer) => {
    if (settled) return;
    toClient += chunk.length;
    if (!sink.write(chunk)) {
      stream.pause();
      sink.onceDrain(() => stream.resume());
    }
  });
  stream.on("end", () => {
    if (settled || !headSeen) return;
    if (grpc && !statusInHead && trailers?.["grpc-status"] === undefined) {
      // A call cut short (the backend's session went away) ends without its status: not an OK end.
      failAfter(conn.error ?? new UpstreamProtocolError("backend ended the gRPC call without a status"));
      return;
    }
    settled = true;
    clearTimers();
    lease.finish({ kind: "response", status, latencyMs: performance.now() - started }, bytes());
    sink.end(trailers === undefined ? undefined : trailerPairs(trailers));
  });

  const body = req.body;
  // The body is read only once the connection is up: a failed connect leaves it unread, so retryable.
  const sendBody = (body: Readable) => {
    if (settled) return;
    stream.on("wantTrailers", () => {
      const t = req.trailers?.();
      try {
        stream.sendTrailers(t === undefined ? {} : trailerPairs(t));
      } catch (e) {
        // node:http2 refused a field the filter let through: the stream is reset, the attempt fails.
        failBefore(e instanceof Error ? e : new UpstreamProtocolError(String(e)));
      }
    });
    body.on("data", (chunk: Buffer) => {
      if (settled) return;
      bodySent = true;
      fromClient += chunk.length;
      req.onBodyBytes?.(chunk.length);
      if (!stream.write(chunk)) {
        body.pause();
        stream.once("drain", () => body.resume());
      }
    });
    const ended = () => {
      if (settled) return;
      stream.end();
      armHead();
    };
    // A retry after a refused stream may find an empty body already ended: its 'end' will not come again.
    if (body.readableEnded) {
      ended();
      return;
    }
    body.once("end", ended);
    if (body.isPaused()) body.resume();
  };
  if (body === undefined) armHead();
  else if (conn.connected) sendBody(body);
  else conn.whenConnected(() => sendBody(body));

  return {
    cancel() {
      if (settled) return;
      settled = true;
      clearTimers();
      lease.finish({ kind: "client-aborted" }, bytes());
      if (!stream.destroyed) stream.close(constants.NGHTTP2_CANCEL);
    },
  };
}
