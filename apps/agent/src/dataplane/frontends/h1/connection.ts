import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";
import type { RedirectToHttps } from "@fulcrum/protocol";
import { errorMessage } from "../../../errors";
import type { Logger } from "../../../log";
import type { AcquireResult, Lease, Outcome, PoolHandle } from "../../exchange";
import { BODY_CHECK_MS, BODY_RATE_GRACE_MS } from "../../http/body-pacer";
import { clientIpOf } from "../../http/headers";
import { UpstreamProtocolError, UpstreamTimeoutError } from "../../http/proxy-errors";
import { classifyUpstreamFailure } from "../../http/upstream-failure";
import { type CompiledRoute, normalizeHost, type RouteTable } from "../../pools/route-table";
import { writeNow, writePending } from "../../sockets/direct-write";
import { countAborted, countBytes, countResponse, type TrafficCounters } from "../../stats/counters";
import { httpsLocation, httpsRedirectResponse } from "../redirect/https-redirect";
import { decideRedirect, redirectResponse } from "../redirect/redirect";
import { CHUNKED_ERROR, ChunkedScanner } from "./chunked";
import { H1Facts } from "./facts";
import { HEAD_INCOMPLETE, HEAD_TOO_LARGE, HeadReader } from "./head-reader";
import { clientResponseHead, ForwardedLines, upstreamRequestHead } from "./head-writer";
import { type H1LocalReason, localReply } from "./local-reply";
import type { H1Options } from "./options";
import {
  BODY_TIMEOUT,
  BODY_TOO_LARGE,
  BODY_TOO_SLOW,
  HEAD_TIMEOUT,
  HEAD_TOO_LARGE_REFUSAL,
  MALFORMED,
  MALFORMED_BODY,
  Refusal,
} from "./refusal";
import {
  BODY_CHUNKED,
  BODY_LENGTH,
  BODY_NONE,
  BODY_UNTIL_CLOSE,
  parseRequestHead,
  type RequestHead,
} from "./request-head";
import { parseResponseHead, type ResponseHead } from "./response-head";
import type { UpstreamConn, UpstreamOwner, UpstreamPool } from "./upstream-pool";

/** What a client connection needs from its listener; read at each request, so a new table applies at once. */
export interface ConnHost {
  readonly table: RouteTable;
  readonly opts: H1Options;
  readonly upstreams: UpstreamPool;
  readonly log: Logger;
  readonly draining: boolean;
  forget(conn: ClientConn): void;
}

// Client connection states. One exchange at a time: a pipelined request waits
// in `pending` until the response before it is complete.
const S_HEAD = 0; // reading a request head
const S_ACQUIRE = 1; // waiting for the pool
const S_CONNECT = 2; // waiting for the upstream TCP connect
const S_BODY = 3; // streaming the request body
const S_WAIT = 4; // request sent; reading/streaming the response
const S_TUNNEL = 5; // after a 101: bytes both ways
const S_CLOSED = 6;

// Response states.
const R_HEAD = 0;
const R_BODY = 1;
const R_DONE = 2;

// Deadlines: checked by the listener's ticker instead of one timer per phase,
// which would cost a Timeout allocation and a timer-list insert per request.
const D_NONE = 0;
const D_KEEPALIVE = 1;
const D_HEAD = 2;
const D_CONNECT = 3;
const D_RESPONSE = 4;
/** Streaming a request body: checks the pause since the last read (bodyMs) and the minimum rate. */
const D_BODY = 5;

/** A response body up to this size that arrives with its head is copied into the head's Buffer: one write instead of two. */
const INLINE_BODY_MAX = 4096;

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);

/**
 * One client connection and the exchanges on it: parse a head, route, lease a
 * backend, forward the head and the body bytes with their own framing, parse
 * the response head, forward it and the body, report the outcome, repeat.
 * All handlers are created once per connection; per request there is the
 * parsed head, the upstream head Buffer, the response head Buffer and the
 * facts object (plus a promise only when the pool makes the request wait).
 */
export class ClientConn implements UpstreamOwner {
  /** ms timestamp; 0 = none. */
  deadline = 0;
  private dkind = D_NONE;
  private state = S_HEAD;
  private readonly reader: HeadReader;
  private readonly respReader: HeadReader;
  private readonly reqChunks: ChunkedScanner;
  private readonly respChunks: ChunkedScanner;
  private readonly clientIp: string;
  private readonly fwdLines: ForwardedLines;
  /** Client bytes received but not consumed yet: the body's start or pipelined requests. */
  private pending: Buffer | undefined;
  private clientEnded = false;

  // The current exchange.
  private req: RequestHead | undefined;
  private facts: H1Facts | undefined;
  private pool: PoolHandle | undefined;
  private routeId = "";
  private clientGone: AbortController | undefined;
  private upHead: Buffer | undefined;
  private reqLeft = 0;
  private reqDone = false;
  private closeAfter = false;
  private attempts = 0;
  private exclude: Set<string> | undefined;
  /** The free retry of a stale pooled connection was used: it goes out once per request, on a new connection. */
  private staleRetried = false;
  private freshUpstream = false;
  /** The previous attempt's failure: if a retry finds no other backend, the client hears about this one. */
  private lastError: Error | undefined;
  private lease: Lease | undefined;
  private up: UpstreamConn | undefined;
  private resp: ResponseHead | undefined;
  private rstate = R_HEAD;
  private respLeft = 0;
  private respStarted = false;
  private headSent = false;
  private upBroken = false;
  private sentAt = 0;
  private latencyMs = 0;
  private fromClient = 0;
  private toClient = 0;
  /** Body bytes only, for the traffic counters (the lease's bytes include heads). */
  private bodyIn = 0;
  private bodyOut = 0;
  // Request body pacing (D_BODY): wire bytes read, when the clock started (moved on by pauses that
  // were ours), the last check, and whether anything was read since it.
  private bodyRead = 0;
  private bodyStartAt = 0;
  private bodyCheckedAt = 0;
  private bodyLastReadAt = 0;
  private bodyReadSinceCheck = false;
  /** Expect: 100-continue: the body clock waits for the backend's interim response or the first body byte. */
  private bodyClockWaits = false;
  /** Counters of the listener (taken at accept), the route and the pool; undefined without compiled config. */
  private readonly lstats: TrafficCounters | undefined;
  private rstats: TrafficCounters | undefined;
  private pstats: TrafficCounters | undefined;
  private responded = false;
  /** Bytes moved since the listener's last idle check (replaces socket.setTimeout, which re-arms a timer per read and write). */
  active = true;
  /** A view of the upstream read buffer went to the client socket during the current onUpstreamData. */
  private viewOut = false;
  /** When the connection counts as idle unless something moves before; 0 = not armed yet. */
  idleAt = 0;

  /**
   * With `sharedReads`, the caller feeds reads through onBytes() as views of a
   * read buffer every connection shares (see acceptWithOnread): a view dies
   * when the call returns, so whatever this connection keeps or queues past
   * it is copied first (own()). Otherwise the socket's 'data' chunks are ours.
   */
  constructor(
    readonly socket: Socket,
    private readonly host: ConnHost,
    sharedReads: boolean,
  ) {
    const o = host.opts;
    this.reader = new HeadReader(o.maxHeaderBytes);
    this.respReader = new HeadReader(Math.max(o.maxHeaderBytes, 65_536));
    this.reqChunks = new ChunkedScanner(o.maxHeaderBytes);
    this.respChunks = new ChunkedScanner(65_536);
    this.clientIp = clientIpOf(socket.remoteAddress);
    this.fwdLines = new ForwardedLines(this.clientIp, host.opts.proto);
    this.lstats = host.table.config?.stats;
    if (this.lstats !== undefined) {
      this.lstats.totalConnections++;
      this.lstats.activeConnections++;
    }
    socket.setNoDelay(true);
    socket.on("error", noop);
    if (!sharedReads) socket.on("data", (c: Buffer) => this.onBytes(c, true));
    socket.on("drain", () => this.onClientDrain());
    socket.on("end", () => this.onClientEnd());
    socket.on("close", () => this.onClientClose());
    this.setDeadline(D_HEAD, o.timeouts.headMs);
  }

  /** Idle between requests (nothing of a next head received). */
  get idle(): boolean {
    return this.state === S_HEAD && this.reader.empty && this.pending === undefined;
  }

  // ---- client side -------------------------------------------------------

  /** Client bytes; `owned` false: a view of the shared read buffer, valid only during this call. */
  onBytes(chunk: Buffer, owned: boolean): void {
    // Bytes after the end (a refused body still arriving) do not keep the connection alive.
    if (this.state === S_CLOSED) return;
    this.active = true;
    switch (this.state) {
      case S_HEAD:
        this.readHead(chunk, owned);
        return;
      case S_BODY:
        this.forwardBody(chunk, owned);
        return;
      case S_TUNNEL:
        this.fromClient += chunk.length;
        this.bodyIn += chunk.length;
        if (!this.up!.socket.write(own(chunk, owned))) this.socket.pause();
        return;
      default:
        // Body bytes before the upstream is ready, or a pipelined request: hold them and stop reading.
        this.pending = this.pending === undefined ? own(chunk, owned) : Buffer.concat([this.pending, chunk]);
        this.socket.pause();
    }
  }

  private readHead(chunk: Buffer, owned: boolean): void {
    if (this.dkind === D_KEEPALIVE) this.setDeadline(D_HEAD, this.host.opts.timeouts.headMs);
    const end = this.reader.push(chunk, owned);
    if (end === HEAD_INCOMPLETE) return;
    if (end < 0) {
      this.refuse(end === HEAD_TOO_LARGE ? HEAD_TOO_LARGE_REFUSAL : MALFORMED);
      return;
    }
    const { buf, start } = this.reader;
    // A head in the shared read buffer is copied (a few hundred bytes): its
    // fields are read later, by policies and retries, as offsets into it.
    const kept = owned || buf !== chunk;
    const req = kept
      ? parseRequestHead(buf, start, end)
      : parseRequestHead(Buffer.from(buf.subarray(start, end)), 0, end - start);
    if (req instanceof Refusal) {
      this.refuse(req);
      return;
    }
    this.pending = end < buf.length ? own(buf.subarray(end), kept) : undefined;
    this.beginRequest(req);
  }

  private beginRequest(req: RequestHead): void {
    this.clearDeadline();
    this.req = req;
    this.state = S_ACQUIRE;
    this.fromClient = req.end - req.start;
    this.toClient = 0;
    this.reqDone = req.bodyKind === BODY_NONE;
    this.reqLeft = req.contentLength;
    if (req.bodyKind === BODY_CHUNKED) this.reqChunks.reset();
    this.closeAfter = req.close || this.host.draining || req.upgrade;
    this.responded = false;
    this.rstats = undefined;
    this.pstats = undefined;
    if (this.lstats !== undefined) this.lstats.requests++;
    this.attempts = 0;
    this.exclude = undefined;
    this.staleRetried = false;
    this.freshUpstream = false;
    this.lastError = undefined;
    const maxBody = this.host.opts.maxBodyBytes;
    if (maxBody > 0 && req.bodyKind === BODY_LENGTH && req.contentLength > maxBody) {
      // Known from the head: refused before any backend is chosen (the body is not read: close).
      this.replyLocal(BODY_TOO_LARGE.status, BODY_TOO_LARGE.reason, BODY_TOO_LARGE.text);
      return;
    }
    const toHttps = this.host.opts.redirectToHttps;
    if (toHttps) {
      this.redirectToHttps(toHttps, req);
      return;
    }
    const q = req.target.indexOf("?");
    const path = q === -1 ? req.target : req.target.slice(0, q);
    const host = normalizeHost(req.host);
    const route = this.host.table.match(host, path);
    if (route === undefined) {
      this.replyLocal(404, "no-route", "no route for this host and path");
      return;
    }
    this.pool = route.pool;
    this.routeId = route.id;
    this.rstats = route.stats;
    this.pstats = (route.pool as { counters?: TrafficCounters }).counters;
    if (this.rstats !== undefined) this.rstats.requests++;
    if (this.pstats !== undefined) this.pstats.requests++;
    this.facts = new H1Facts(req.method, path, host, this.clientIp, req);
    if (route.action === "redirect") {
      this.redirect(route, req);
      return;
    }
    this.upHead = upstreamRequestHead(req, {
      clientIp: this.clientIp,
      proto: this.host.opts.proto,
      lines: this.fwdLines,
      trustForwarded: this.host.opts.trustForwarded,
    });
    this.acquire();
  }

  private acquire(): void {
    this.state = S_ACQUIRE;
    const pool = this.pool!;
    if (pool.tryAcquire !== undefined) {
      // Usually a backend is free: no Promise, no microtask, no AbortSignal.
      const r = pool.tryAcquire(this.facts!, this.exclude);
      if (r !== undefined) {
        this.onAcquired(r);
        return;
      }
    }
    // One controller per client connection, aborted when the client leaves: a
    // request waiting in a pool's queue then gives up its place at once.
    this.clientGone ??= new AbortController();
    const signal = this.clientGone.signal;
    const opts =
      this.exclude === undefined
        ? { routeId: this.routeId, signal }
        : { routeId: this.routeId, exclude: this.exclude, signal };
    pool.acquire(this.facts!, opts).then(this.onAcquired, this.onAcquireError);
  }

  private readonly onAcquired = (r: AcquireResult): void => {
    if (this.state !== S_ACQUIRE) {
      if (r.ok) r.lease.finish({ kind: "client-aborted" });
      return;
    }
    if (!r.ok) {
      if (this.lastError !== undefined) this.replyFailure(this.lastError, undefined);
      else this.replyLocal(503, r.reason, "no backend available");
      return;
    }
    this.lease = r.lease;
    const b = r.lease.backend;
    const up = this.freshUpstream
      ? this.host.upstreams.open(b.key, b.address, b.port)
      : this.host.upstreams.take(b.key, b.address, b.port);
    this.up = up;
    up.owner = this;
    this.rstate = R_HEAD;
    this.respReader.reset();
    this.resp = undefined;
    this.respStarted = false;
    this.upBroken = false;
    if (up.connected) {
      this.send();
    } else {
      this.state = S_CONNECT;
      this.setDeadline(D_CONNECT, this.host.opts.timeouts.connectMs);
    }
  };

  private readonly onAcquireError = (e: unknown): void => {
    if (this.state !== S_ACQUIRE) return;
    this.host.log.warn("pool acquire failed", { pool: this.pool?.name, error: errorMessage(e) });
    this.replyLocal(503, "no-backend", "no backend available");
  };

  onUpstreamConnect(): void {
    if (this.state !== S_CONNECT) return;
    this.clearDeadline();
    this.send();
  }

  /** Head and whatever body bytes are already here go out in one write. */
  private send(): void {
    const us = this.up!.socket;
    this.sentAt = performance.now();
    if (this.reqDone) {
      // The usual bodiless request: one write, no cork.
      this.state = S_WAIT;
      writeNow(us, this.upHead!);
    } else {
      this.state = S_BODY;
      this.bodyClockWaits = expectsContinue(this.req!);
      if (!this.bodyClockWaits) this.startBodyClock();
      us.cork();
      us.write(this.upHead!);
      if (this.pending !== undefined) {
        const p = this.pending;
        this.pending = undefined;
        this.forwardBody(p, true);
      }
      us.uncork();
    }
    if (this.state === S_WAIT && !this.respStarted) {
      this.setDeadline(D_RESPONSE, this.host.opts.timeouts.responseMs);
    }
    if (this.state === S_BODY && this.socket.isPaused()) this.socket.resume();
  }

  /** Forwards request body bytes as they are, counting or following chunks to find the message's end. */
  private forwardBody(chunk: Buffer, owned: boolean): void {
    const req = this.req!;
    if (this.bodyClockWaits) this.startBodyClock();
    this.bodyRead += chunk.length;
    this.bodyReadSinceCheck = true;
    let end: number;
    let done: boolean;
    if (req.bodyKind === BODY_LENGTH) {
      end = Math.min(chunk.length, this.reqLeft);
      this.reqLeft -= end;
      done = this.reqLeft === 0;
    } else {
      const r = this.reqChunks.scan(chunk, 0, chunk.length);
      if (r === CHUNKED_ERROR) {
        // Malformed chunked body from the client: part of it may be upstream already, so both go.
        this.abortRequest(MALFORMED_BODY);
        return;
      }
      done = r >= 0;
      end = done ? r : chunk.length;
    }
    this.fromClient += end;
    if (req.bodyKind === BODY_LENGTH) this.bodyIn += end;
    else {
      this.bodyIn += this.reqChunks.dataBytes;
      this.reqChunks.dataBytes = 0;
      const max = this.host.opts.maxBodyBytes;
      if (max > 0 && this.bodyIn > max) {
        // Crossed mid-body: these bytes stay here, the backend's half a body is cut with its connection.
        this.abortRequest(BODY_TOO_LARGE);
        return;
      }
    }
    const us = this.up!.socket;
    const ok =
      end === chunk.length
        ? us.write(own(chunk, owned))
        : end > 0
          ? us.write(own(chunk.subarray(0, end), owned))
          : true;
    if (done) {
      this.reqDone = true;
      if (end < chunk.length) {
        this.pending = own(chunk.subarray(end), owned);
        this.socket.pause();
      }
      if (this.state === S_BODY) this.state = S_WAIT;
      if (!this.respStarted) this.setDeadline(D_RESPONSE, this.host.opts.timeouts.responseMs);
    } else if (!ok) {
      this.socket.pause();
    }
  }

  onUpstreamDrain(): void {
    if ((this.state === S_BODY || this.state === S_TUNNEL) && this.socket.isPaused()) this.socket.resume();
  }

  /** The request body's pause and rate clock starts (once the backend can take it, or asked for it). */
  private startBodyClock(): void {
    this.bodyClockWaits = false;
    const now = Date.now();
    this.bodyStartAt = now;
    this.bodyCheckedAt = now;
    this.bodyLastReadAt = now;
    this.bodyRead = 0;
    this.bodyReadSinceCheck = false;
    this.setDeadline(D_BODY, Math.min(this.host.opts.timeouts.bodyMs, BODY_CHECK_MS));
  }

  /**
   * The body deadline: a pause longer than bodyMs since the last read, or a
   * rate below minBodyBytesPerSecond after the grace period, ends the request
   * (408, or a cut connection once the response started). Time this proxy
   * held the client paused (a slow backend) counts for neither.
   */
  private checkBody(): void {
    if (this.state !== S_BODY) return;
    const o = this.host.opts;
    const now = Date.now();
    if (this.socket.isPaused()) {
      this.bodyStartAt += now - this.bodyCheckedAt;
      this.bodyLastReadAt = now;
    } else if (this.bodyReadSinceCheck) {
      this.bodyLastReadAt = now;
    } else if (now - this.bodyLastReadAt >= o.timeouts.bodyMs) {
      this.abortRequest(BODY_TIMEOUT);
      return;
    }
    this.bodyReadSinceCheck = false;
    this.bodyCheckedAt = now;
    const elapsed = now - this.bodyStartAt;
    const min = o.minBodyBytesPerSecond;
    if (min > 0 && elapsed >= BODY_RATE_GRACE_MS && this.bodyRead * 1000 < min * elapsed) {
      this.abortRequest(BODY_TOO_SLOW);
      return;
    }
    this.setDeadline(D_BODY, Math.min(o.timeouts.bodyMs, BODY_CHECK_MS));
  }

  private onClientDrain(): void {
    this.active = true;
    const up = this.up;
    if (up?.socket.isPaused()) up.socket.resume();
  }

  // ---- upstream side -----------------------------------------------------

  /** `chunk` is the upstream connection's reusable read buffer: says whether a view of it is still held after this call. */
  onUpstreamData(chunk: Buffer): boolean {
    this.active = true;
    this.viewOut = false;
    if (this.state === S_TUNNEL) {
      this.toClient += chunk.length;
      this.bodyOut += chunk.length;
      this.viewOut = true;
      if (!this.socket.write(chunk)) this.up!.socket.pause();
    } else {
      if (!this.respStarted) {
        this.respStarted = true;
        if (this.dkind === D_RESPONSE) this.clearDeadline();
      }
      if (this.rstate === R_HEAD) this.readResponseHead(chunk);
      else if (this.rstate === R_BODY) this.forwardResponse(chunk, 0);
      else this.upBroken = true;
    }
    // Views of it written but still queued (not taken by the kernel yet), or a partial head kept for the next read.
    return (this.viewOut && writePending(this.socket)) || !this.respReader.empty;
  }

  private readResponseHead(chunk: Buffer): void {
    const end = this.respReader.push(chunk);
    if (end === HEAD_INCOMPLETE) return;
    const req = this.req!;
    const { buf, start } = this.respReader;
    const resp = end < 0 ? undefined : parseResponseHead(buf, start, end, req.method, this.up!.respFields);
    if (resp === undefined || (resp.status === 101 && !req.upgrade)) {
      this.upstreamFailed(new UpstreamProtocolError("malformed response head from upstream"), false);
      return;
    }
    if (resp.status < 200 && resp.status !== 101) {
      // The client waited for this to send its body: from now on it is on the clock.
      if (this.bodyClockWaits && this.state === S_BODY) this.startBodyClock();
      // Interim responses (100 Continue, 103 Early Hints) pass through to HTTP/1.1 clients as they are.
      if (req.minor === 1) {
        this.toClient += end - start;
        this.viewOut = true;
        this.socket.write(buf.subarray(start, end));
      }
      this.respReader.reset();
      if (end < buf.length) this.readResponseHead(buf.subarray(end));
      return;
    }
    this.latencyMs = performance.now() - this.sentAt;
    this.resp = resp;
    if (resp.status === 101) {
      this.startTunnel(buf.subarray(start, end), end < buf.length ? buf.subarray(end) : undefined);
      return;
    }
    // A response that arrives before the request body is complete ends the connection after it.
    if (resp.bodyKind === BODY_UNTIL_CLOSE || !this.reqDone) this.closeAfter = true;
    this.headSent = true;
    this.responded = true;
    countResponse(resp.status, this.lstats, this.rstats, this.pstats);
    const cs = this.socket;
    const len = resp.contentLength;
    if (
      resp.bodyKind === BODY_NONE ||
      (resp.bodyKind === BODY_LENGTH && len <= INLINE_BODY_MAX && buf.length - end >= len)
    ) {
      // No body, or a small one that came with the head: head and body leave in one Buffer, one write.
      const bodyEnd = resp.bodyKind === BODY_NONE ? end : end + len;
      const fields = this.host.opts.responseFields;
      const out = clientResponseHead(resp, this.lease!.responseHeaders, this.closeAfter, bodyEnd, fields);
      this.toClient += out.length;
      this.bodyOut += bodyEnd - end;
      if (bodyEnd < buf.length) this.upBroken = true;
      this.rstate = R_DONE;
      writeNow(cs, out);
      this.finishResponse();
      return;
    }
    const head = clientResponseHead(
      resp,
      this.lease!.responseHeaders,
      this.closeAfter,
      resp.end,
      this.host.opts.responseFields,
    );
    this.toClient += head.length;
    cs.cork();
    cs.write(head);
    this.rstate = R_BODY;
    this.respLeft = resp.contentLength;
    if (resp.bodyKind === BODY_CHUNKED) this.respChunks.reset();
    if (end < buf.length) this.forwardResponse(buf, end);
    cs.uncork();
  }

  private forwardResponse(buf: Buffer, from: number): void {
    const kind = this.resp!.bodyKind;
    let end: number;
    let done = false;
    if (kind === BODY_LENGTH) {
      end = buf.length - from <= this.respLeft ? buf.length : from + this.respLeft;
      this.respLeft -= end - from;
      done = this.respLeft === 0;
    } else if (kind === BODY_CHUNKED) {
      const r = this.respChunks.scan(buf, from, buf.length);
      if (r === CHUNKED_ERROR) {
        this.upstreamFailed(new UpstreamProtocolError("malformed chunked body from upstream"), false);
        return;
      }
      done = r >= 0;
      end = done ? r : buf.length;
    } else {
      end = buf.length;
    }
    this.toClient += end - from;
    if (kind === BODY_CHUNKED) {
      this.bodyOut += this.respChunks.dataBytes;
      this.respChunks.dataBytes = 0;
    } else {
      this.bodyOut += end - from;
    }
    this.viewOut = true;
    const ok = writeNow(this.socket, from === 0 && end === buf.length ? buf : buf.subarray(from, end));
    if (done) {
      if (end < buf.length) this.upBroken = true;
      this.rstate = R_DONE;
      this.finishResponse();
    } else if (!ok) {
      this.up!.socket.pause();
    }
  }

  /** The response is complete: report, return or drop the upstream socket, go on with the client. */
  private finishResponse(): void {
    const resp = this.resp!;
    const up = this.up!;
    this.up = undefined;
    up.owner = undefined;
    this.lease!.finish(
      { kind: "response", status: resp.status, latencyMs: this.latencyMs },
      { fromClient: this.fromClient, toClient: this.toClient },
    );
    this.lease = undefined;
    this.countDone();
    if (this.reqDone && !resp.close && !this.upBroken && this.req!.minor === 1 && !this.req!.upgrade) {
      this.host.upstreams.release(up);
    } else {
      up.destroy();
    }
    if (this.closeAfter || !this.reqDone || this.clientEnded) this.closeClient();
    else this.nextRequest();
  }

  private nextRequest(): void {
    this.state = S_HEAD;
    this.req = undefined;
    this.facts = undefined;
    this.pool = undefined;
    this.upHead = undefined;
    this.resp = undefined;
    this.headSent = false;
    if (this.host.draining) {
      this.closeClient();
      return;
    }
    this.setDeadline(D_KEEPALIVE, this.host.opts.timeouts.keepAliveMs);
    const p = this.pending;
    if (p !== undefined) {
      this.pending = undefined;
      this.readHead(p, true);
    }
    if (this.state === S_HEAD && this.socket.isPaused()) this.socket.resume();
  }

  private startTunnel(head: Buffer, rest: Buffer | undefined): void {
    this.clearDeadline();
    this.responded = true;
    countResponse(101, this.lstats, this.rstats, this.pstats);
    this.state = S_TUNNEL;
    this.headSent = true;
    this.toClient += head.length;
    this.viewOut = true;
    this.socket.write(head);
    if (rest !== undefined) {
      this.toClient += rest.length;
      this.socket.write(rest);
    }
    if (this.pending !== undefined) {
      this.fromClient += this.pending.length;
      this.up!.socket.write(this.pending);
      this.pending = undefined;
    }
    if (this.socket.isPaused()) this.socket.resume();
  }

  onUpstreamGone(up: UpstreamConn, err: Error | undefined): void {
    if (up !== this.up) return;
    if (this.state === S_TUNNEL) {
      this.up = undefined;
      this.finishLease({ kind: "response", status: 101, latencyMs: this.latencyMs });
      this.countDone();
      this.closeClient();
      return;
    }
    if (this.rstate === R_BODY && this.resp!.bodyKind === BODY_UNTIL_CLOSE && err === undefined) {
      // The backend's close is this response's end.
      up.owner = this;
      this.rstate = R_DONE;
      this.closeAfter = true;
      this.finishResponse();
      return;
    }
    this.upstreamFailed(err ?? new UpstreamProtocolError("upstream closed the connection"), !up.connected);
  }

  /**
   * The current attempt failed on the backend side. Before any response
   * byte: retry when allowed (a failed connect always may, nothing was sent;
   * otherwise only a bodiless idempotent request), else answer 502/504. After
   * the response head went out, cutting the client is the only honest signal.
   */
  private upstreamFailed(err: Error, connectFailed: boolean): void {
    const up = this.up;
    this.up = undefined;
    if (up !== undefined) {
      up.owner = undefined;
      up.destroy();
    }
    if (this.state === S_CLOSED) return;
    this.clearDeadline();
    const timeout = err instanceof UpstreamTimeoutError;
    let outcome: Outcome;
    let retry = false;
    if (connectFailed) {
      outcome = { kind: "connect-failed", error: err };
      retry = true;
    } else if (!this.respStarted) {
      outcome = { kind: "failed-before-response", error: err, timeout };
      retry = !timeout && this.req!.bodyKind === BODY_NONE && IDEMPOTENT.has(this.req!.method);
    } else {
      outcome = { kind: "failed-after-response", error: err };
    }
    this.finishLease(outcome);
    if (retry && !this.staleRetried && up?.reused === true && !connectFailed) {
      // A pooled socket the backend had closed says nothing against the backend: one free retry,
      // on a new connection, so a dead backend's other pooled sockets cannot be picked again.
      this.staleRetried = true;
      this.freshUpstream = true;
      this.lastError = err;
      this.acquire();
      return;
    }
    if (retry && this.pool!.mayRetry(++this.attempts)) {
      // Anything else moves on to another backend: this one is excluded for the rest of the request.
      if (up !== undefined) {
        this.exclude ??= new Set();
        this.exclude.add(up.key);
      }
      this.lastError = err;
      this.acquire();
      return;
    }
    if (this.headSent) {
      this.socket.destroy();
      return;
    }
    this.closeAfter ||= this.respStarted;
    this.replyFailure(err, up?.key);
  }

  private replyFailure(err: Error, upstream: string | undefined): void {
    const { status, reason } = classifyUpstreamFailure(err);
    this.host.log.warn("upstream request failed", {
      pool: this.pool?.name,
      upstream,
      reason,
      error: errorMessage(err),
    });
    this.replyLocal(status, reason, status === 504 ? "upstream timed out" : "upstream unreachable");
  }

  /** Body bytes of the exchange and, for one nobody answered, the abort; counted once. */
  private countDone(): void {
    countBytes(this.bodyIn, this.bodyOut, this.lstats, this.rstats, this.pstats);
    if (!this.responded) countAborted(this.lstats, this.rstats, this.pstats);
    this.bodyIn = 0;
    this.bodyOut = 0;
    this.responded = true;
  }

  private finishLease(outcome: Outcome): void {
    const lease = this.lease;
    if (lease === undefined) return;
    this.lease = undefined;
    lease.finish(outcome, { fromClient: this.fromClient, toClient: this.toClient });
  }

  // ---- endings -----------------------------------------------------------

  private replyLocal(status: number, reason: H1LocalReason, text: string): void {
    // An unread request body cannot be skipped safely without reading it: close instead.
    const close = this.closeAfter || !this.reqDone || this.clientEnded;
    const buf = localReply(status, reason, text, close);
    this.toClient += buf.length;
    this.responded = true;
    countResponse(status, this.lstats, this.rstats, this.pstats);
    this.countDone();
    this.socket.write(buf);
    if (close) this.closeClient();
    else this.nextRequest();
  }

  /** A redirect route: 302/307 to the chosen backend's public URL; the request body is not read, so close then. */
  private redirect(route: CompiledRoute, req: RequestHead): void {
    const d = decideRedirect(route, req.target, this.facts!);
    if (d.kind === "local") {
      this.replyLocal(d.status, d.reason, d.text);
      return;
    }
    const close = this.closeAfter || !this.reqDone || this.clientEnded;
    const buf = redirectResponse(d, close);
    this.toClient += buf.length;
    this.responded = true;
    countResponse(d.status, this.lstats, this.rstats, this.pstats);
    this.countDone();
    this.socket.write(buf);
    if (close) this.closeClient();
    else this.nextRequest();
  }

  /** A plain http listener that sends every client to https (redirect/https-redirect.ts). */
  private redirectToHttps(to: RedirectToHttps, req: RequestHead): void {
    const location = httpsLocation(req.host, req.target, to.port);
    if (location === undefined) {
      this.replyLocal(400, "bad-request", "the Host header is not a host name or address");
      return;
    }
    const close = this.closeAfter || !this.reqDone || this.clientEnded;
    const buf = httpsRedirectResponse(to.status, location, close);
    this.toClient += buf.length;
    this.responded = true;
    countResponse(to.status, this.lstats);
    this.countDone();
    this.socket.write(buf);
    if (close) this.closeClient();
    else this.nextRequest();
  }

  /** A malformed, oversized or too slow request head: answer and close without contacting any backend. */
  private refuse(r: Refusal): void {
    this.socket.pause();
    this.pending = undefined;
    this.reader.reset();
    if (this.lstats !== undefined) {
      this.lstats.requests++;
      countResponse(r.status, this.lstats);
    }
    this.socket.write(localReply(r.status, r.reason, r.text, true));
    this.closeClient();
  }

  /**
   * The client broke its own framing mid-body, or its body is too large or
   * too slow: the backend's half a request is cut with its connection; the
   * client gets the answer, or a cut connection once a response went out.
   */
  private abortRequest(r: Refusal): void {
    this.finishLease({ kind: "client-aborted" });
    const up = this.up;
    this.up = undefined;
    if (up !== undefined) {
      up.owner = undefined;
      up.destroy();
    }
    if (this.headSent) {
      this.socket.destroy();
      return;
    }
    this.socket.pause();
    this.pending = undefined;
    this.reqDone = false;
    this.replyLocal(r.status, r.reason, r.text);
  }

  private closeClient(): void {
    this.state = S_CLOSED;
    this.clearDeadline();
    this.socket.end();
    // A client that never closes its side is cut by the idle timeout; a quick one needs no wait.
    if (this.clientEnded) this.socket.destroySoon();
  }

  private onClientEnd(): void {
    this.clientEnded = true;
    switch (this.state) {
      case S_HEAD:
        // Half a head and then FIN: nothing to answer.
        this.socket.end();
        this.state = S_CLOSED;
        this.clearDeadline();
        return;
      case S_BODY:
        this.socket.destroy();
        return;
      case S_TUNNEL:
        this.up?.socket.end();
        return;
      case S_CLOSED:
        this.socket.destroy();
        return;
      case S_ACQUIRE:
        // Still queued for a backend, nothing sent upstream yet: like HAProxy's
        // abortonclose, a client that hung up gives its place to the next one.
        this.socket.destroy();
        return;
      default:
      // Request complete: answer it, then close (clientEnded).
    }
  }

  private onClientClose(): void {
    this.clientGone?.abort();
    const wasTunnel = this.state === S_TUNNEL;
    if (this.lstats !== undefined) this.lstats.activeConnections--;
    if (this.req !== undefined && this.state !== S_CLOSED) this.countDone();
    this.state = S_CLOSED;
    this.clearDeadline();
    if (wasTunnel) this.finishLease({ kind: "response", status: 101, latencyMs: this.latencyMs });
    else this.finishLease({ kind: "client-aborted" });
    const up = this.up;
    this.up = undefined;
    if (up !== undefined) {
      up.owner = undefined;
      up.destroy();
    }
    this.host.forget(this);
  }

  /** Called by the listener's ticker: `idleMs` without a byte either way closes the connection. */
  checkIdle(now: number, idleMs: number): void {
    if (this.active || this.idleAt === 0) {
      this.active = false;
      this.idleAt = now + idleMs;
    } else if (now >= this.idleAt) {
      this.idleAt = 0;
      this.onClientIdle();
    }
  }

  private onClientIdle(): void {
    // Waiting for the pool, a connect or a response head has its own deadline.
    if (this.state === S_ACQUIRE || this.state === S_CONNECT) return;
    if (this.state === S_WAIT && this.rstate === R_HEAD) return;
    this.socket.destroy();
  }

  /** Listener shutdown: idle connections close now, busy ones after their current response. */
  drain(): void {
    if (this.idle) this.closeClient();
    else this.closeAfter = true;
  }

  // ---- deadlines ---------------------------------------------------------

  private setDeadline(kind: number, ms: number): void {
    this.dkind = kind;
    this.deadline = Date.now() + ms;
  }

  private clearDeadline(): void {
    this.dkind = D_NONE;
    this.deadline = 0;
  }

  onDeadline(): void {
    const kind = this.dkind;
    this.clearDeadline();
    const t = this.host.opts.timeouts;
    switch (kind) {
      case D_KEEPALIVE:
        // Idle between requests: close without a word (nginx and HAProxy do the same).
        this.socket.destroy();
        return;
      case D_HEAD:
        // A head trickling in too slowly (slowloris) hears 408; a connection that sent nothing does not.
        if (this.reader.empty) this.socket.destroy();
        else this.refuse(HEAD_TIMEOUT);
        return;
      case D_BODY:
        this.checkBody();
        return;
      case D_CONNECT:
        this.up?.destroy(new UpstreamTimeoutError("connect", t.connectMs));
        return;
      case D_RESPONSE:
        this.up?.destroy(new UpstreamTimeoutError("response", t.responseMs));
        return;
    }
  }
}

function noop(): void {}

/** `chunk` itself when it is ours to keep, else a copy of it. */
const own = (chunk: Buffer, owned: boolean): Buffer => (owned ? chunk : Buffer.from(chunk));

/** "Expect: 100-continue" (RFC 9110 §10.1.1): the client sends its body after an interim response. */
function expectsContinue(req: RequestHead): boolean {
  const v = req.fields.find("expect");
  return v !== undefined && v.toLowerCase() === "100-continue";
}
