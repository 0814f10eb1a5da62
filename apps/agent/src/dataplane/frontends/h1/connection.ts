import type { Socket } from "node:net";
import type { Logger } from "../../../log";
import type { AcquireResult, Lease, Outcome, PoolHandle } from "../../exchange";
import { clientIpOf } from "../../http/headers";
import { UpstreamProtocolError, UpstreamTimeoutError } from "../../http/proxy-errors";
import type { RouteTable } from "../../pools/route-table";
import { writePending } from "../../sockets/direct-write";
import { countAborted, countBytes, type TrafficCounters } from "../../stats/counters";
import { acquired, acquireFailed, send, upstreamFailed } from "./backend-attempt";
import { ChunkedScanner } from "./chunked";
import { readHead } from "./client-request";
import {
  D_BODY,
  D_CONNECT,
  D_HEAD,
  D_KEEPALIVE,
  D_NONE,
  D_RESPONSE,
  R_BODY,
  R_DONE,
  R_HEAD,
  S_ACQUIRE,
  S_BODY,
  S_BRIDGED,
  S_CLOSED,
  S_CONNECT,
  S_HEAD,
  S_TUNNEL,
  S_WAIT,
} from "./conn-states";
import type { H1Facts } from "./facts";
import { HeadReader } from "./head-reader";
import { ForwardedLines } from "./head-writer";
import { refuse } from "./local-answers";
import type { H1Options } from "./options";
import { HEAD_TIMEOUT } from "./refusal";
import { checkBody, forwardBody } from "./request-body";
import { BODY_UNTIL_CLOSE, type RequestHead } from "./request-head";
import type { ResponseHead } from "./response-head";
import { own } from "./shared-read";
import type { UpstreamConn, UpstreamOwner, UpstreamPool } from "./upstream-pool";
import { finishResponse, forwardResponse, readResponseHead } from "./upstream-response";

/** What a client connection needs from its listener; read at each request, so a new table applies at once. */
export interface ConnHost {
  readonly table: RouteTable;
  readonly opts: H1Options;
  readonly upstreams: UpstreamPool;
  readonly log: Logger;
  readonly draining: boolean;
  forget(conn: ClientConn): void;
}

/**
 * One client connection and the exchanges on it: parse a head, route, lease a
 * backend, forward the head and the body bytes with their own framing, parse
 * the response head, forward it and the body, report the outcome, repeat.
 *
 * This class holds the connection's state, all of it on this one object, and
 * its life: the events of the client socket, the upstream connection and the
 * listener's ticker, deadlines, keep-alive and closing. The steps of an
 * exchange are plain functions over it, one file per side: client-request.ts
 * (head, routing), backend-attempt.ts (lease, send, retry), request-body.ts,
 * upstream-response.ts and local-answers.ts; so its fields are public to them,
 * and nothing outside this folder touches them.
 *
 * All handlers are created once per connection; per request there is the
 * parsed head, the upstream head Buffer, the response head Buffer and the
 * facts object (plus a promise only when the pool makes the request wait).
 */
export class ClientConn implements UpstreamOwner {
  /** ms timestamp; 0 = none. */
  deadline = 0;
  dkind = D_NONE;
  state = S_HEAD;
  readonly reader: HeadReader;
  readonly respReader: HeadReader;
  readonly reqChunks: ChunkedScanner;
  readonly respChunks: ChunkedScanner;
  readonly clientIp: string;
  readonly fwdLines: ForwardedLines;
  /** Set once the connection went to the node:http front end (h2-bridge.ts, pools with HTTP/2 upstreams). */
  bridge: { feed(chunk: Buffer): void; push(chunk: null): boolean; destroy(): void } | undefined;
  /** Client bytes received but not consumed yet: the body's start or pipelined requests. */
  pending: Buffer | undefined;
  clientEnded = false;

  // The current exchange.
  req: RequestHead | undefined;
  facts: H1Facts | undefined;
  pool: PoolHandle | undefined;
  routeId = "";
  clientGone: AbortController | undefined;
  upHead: Buffer | undefined;
  /** Request body bytes carried in `upHead` (the ones that arrived with the head). */
  headBodyBytes = 0;
  reqLeft = 0;
  reqDone = false;
  closeAfter = false;
  attempts = 0;
  exclude: Set<string> | undefined;
  /** The free retry of a stale pooled connection was used: it goes out once per request, on a new connection. */
  staleRetried = false;
  freshUpstream = false;
  /** The previous attempt's failure: if a retry finds no other backend, the client hears about this one. */
  lastError: Error | undefined;
  lease: Lease | undefined;
  up: UpstreamConn | undefined;
  resp: ResponseHead | undefined;
  rstate = R_HEAD;
  respLeft = 0;
  respStarted = false;
  headSent = false;
  upBroken = false;
  sentAt = 0;
  latencyMs = 0;
  fromClient = 0;
  toClient = 0;
  /** Body bytes only, for the traffic counters (the lease's bytes include heads). */
  bodyIn = 0;
  bodyOut = 0;
  // Request body pacing (D_BODY): wire bytes read, when the clock started (moved on by pauses that
  // were ours), the last check, and whether anything was read since it.
  bodyRead = 0;
  bodyStartAt = 0;
  bodyCheckedAt = 0;
  bodyLastReadAt = 0;
  bodyReadSinceCheck = false;
  /** Expect: 100-continue: the body clock waits for the backend's interim response or the first body byte. */
  bodyClockWaits = false;
  /** Counters of the listener (taken at accept), the route and the pool; undefined without compiled config. */
  readonly lstats: TrafficCounters | undefined;
  rstats: TrafficCounters | undefined;
  pstats: TrafficCounters | undefined;
  responded = false;
  /** Bytes moved since the listener's last idle check (replaces socket.setTimeout, which re-arms a timer per read and write). */
  active = true;
  /** A view of the upstream read buffer went to the client socket during the current onUpstreamData. */
  viewOut = false;
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
    readonly host: ConnHost,
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
        readHead(this, chunk, owned);
        return;
      case S_BODY:
        forwardBody(this, chunk, owned);
        return;
      case S_BRIDGED:
        this.bridge!.feed(own(chunk, owned));
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

  private onClientDrain(): void {
    this.active = true;
    const up = this.up;
    if (up?.socket.isPaused()) up.socket.resume();
  }

  /** The pool's answer after a wait (one bound handler per connection, not one per request). */
  readonly onAcquired = (r: AcquireResult): void => acquired(this, r);
  readonly onAcquireError = (e: unknown): void => acquireFailed(this, e);

  // ---- upstream side -----------------------------------------------------

  onUpstreamConnect(): void {
    if (this.state !== S_CONNECT) return;
    this.clearDeadline();
    send(this);
  }

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
      if (this.rstate === R_HEAD) readResponseHead(this, chunk);
      else if (this.rstate === R_BODY) forwardResponse(this, chunk, 0);
      else this.upBroken = true;
    }
    // Views of it written but still queued (not taken by the kernel yet), or a partial head kept for the next read.
    return (this.viewOut && writePending(this.socket)) || !this.respReader.empty;
  }

  onUpstreamDrain(): void {
    if ((this.state === S_BODY || this.state === S_TUNNEL) && this.socket.isPaused()) this.socket.resume();
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
      finishResponse(this);
      return;
    }
    upstreamFailed(this, err ?? new UpstreamProtocolError("upstream closed the connection"), !up.connected);
  }

  // ---- between exchanges ---------------------------------------------------

  /** Body bytes of the exchange and, for one nobody answered, the abort; counted once. */
  countDone(): void {
    countBytes(this.bodyIn, this.bodyOut, this.lstats, this.rstats, this.pstats);
    if (!this.responded) countAborted(this.lstats, this.rstats, this.pstats);
    this.bodyIn = 0;
    this.bodyOut = 0;
    this.responded = true;
  }

  finishLease(outcome: Outcome): void {
    const lease = this.lease;
    if (lease === undefined) return;
    this.lease = undefined;
    lease.finish(outcome, { fromClient: this.fromClient, toClient: this.toClient });
  }

  /** The exchange is over and the connection stays: wait for (or read the pipelined) next head. */
  nextRequest(): void {
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
      readHead(this, p, true);
    }
    if (this.state === S_HEAD && this.socket.isPaused()) this.socket.resume();
  }

  // ---- endings -----------------------------------------------------------

  /**
   * `clientDone`: the client asked to close after this exchange, its request
   * was read whole and nothing follows it, so no byte of it can arrive after
   * our FIN: the socket is closed once the response is out (shutdown, then
   * close), without waiting for the client's FIN. That wait costs a wake-up,
   * a read and the stream's end handling per connection under churn.
   */
  closeClient(clientDone = false): void {
    this.state = S_CLOSED;
    this.clearDeadline();
    if (clientDone && !writePending(this.socket)) {
      // The kernel holds the whole response: close(2) sends it, then our FIN, as shutdown(2) would.
      // Skipping end() skips the Writable's shutdown request, its callback and 'finish' (a tenth
      // of the agent's CPU per connection under churn in a perf profile); the socket is closed
      // at once instead of one event-loop turn later.
      this.socket.destroy();
      return;
    }
    this.socket.end();
    // A client that never closes its side is cut by the idle timeout; a quick one needs no wait.
    if (this.clientEnded || clientDone) this.socket.destroySoon();
  }

  private onClientEnd(): void {
    this.clientEnded = true;
    switch (this.state) {
      case S_BRIDGED:
        this.bridge!.push(null);
        return;
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
    if (this.state === S_BRIDGED) {
      // The node:http side counted this connection and owns its exchanges.
      this.bridge!.destroy();
      this.host.forget(this);
      return;
    }
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

  setDeadline(kind: number, ms: number): void {
    this.dkind = kind;
    this.deadline = Date.now() + ms;
  }

  clearDeadline(): void {
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
        else refuse(this, HEAD_TIMEOUT);
        return;
      case D_BODY:
        checkBody(this);
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
