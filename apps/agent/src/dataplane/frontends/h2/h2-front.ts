import {
  constants,
  createServer,
  type Http2Server,
  type Http2ServerResponse,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from "node:http2";
import type { Socket } from "node:net";
import type { ListenerHttp2 } from "@fulcrum/protocol";
import { errorCode } from "../../../errors";
import type { Logger } from "../../../log";
import type { RouteTable } from "../../pools/route-table";
import type { DataPlaneTimeouts } from "../../timeouts";
import { handleHttpRequest } from "../node-http/http-proxy";
import { h2ServerOptions } from "./h2-options";
import { H2_PROTOCOL } from "./h2-side";
import { ResetGuard, resetBudget } from "./reset-guard";

const { NGHTTP2_CANCEL, NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_INTERNAL_ERROR } = constants;

/**
 * The HTTP/2 front end of one http listener: sockets that negotiated ALPN
 * `h2` on a TLS listener, or sent the client preface on a plain listener
 * with h2c, become sessions of a node:http2 server that never listens
 * itself. Each stream is one request through the same proxy path as
 * node:http's (node-http/http-proxy.ts, with H2_PROTOCOL translating the
 * stream into an HTTP/1.1 request): routes, leases, policies, persistence,
 * retries, limits and queue, timeouts, redirects, local replies and
 * statistics are the HTTP/1.1 ones. What is HTTP/2's own lives here: the
 * connection counted once per session, the first request within the
 * listener's head timeout, an idle session (no open stream) closed after
 * `idleMs`, a stream without progress either way closed after the
 * listener's idle timeout (a zero-window reader), and the rapid-reset guard.
 */
export class H2Front {
  private readonly server: Http2Server;
  private readonly sessions = new Set<ServerHttp2Session>();

  constructor(
    private readonly table: () => RouteTable,
    private settings: ListenerHttp2,
    private readonly timeouts: DataPlaneTimeouts,
    private readonly log: Logger,
  ) {
    this.server = createServer(h2ServerOptions(settings), (req, res) => {
      // nghttp2 applies our SETTINGS_MAX_HEADER_LIST_SIZE only once the client has ACKed it;
      // a client that never does would get Node's default. Checked here too, on the decoded list.
      if (headerListSize(req.rawHeaders) > this.settings.maxHeaderListBytes) {
        req.stream.close(NGHTTP2_ENHANCE_YOUR_CALM);
        return;
      }
      guardWrites(res, this.log);
      // Rapid reset: a stream cancelled in the same read as its HEADERS is closed by the time this
      // runs, and never costs a backend a request.
      setImmediate(() => {
        if (req.stream.closed || req.stream.destroyed) return;
        handleHttpRequest({ table: this.table(), timeouts, log, side: H2_PROTOCOL }, req, res);
      });
    });
    this.server.on("session", (s) => this.onSession(s));
    this.server.on("sessionError", () => {});
  }

  /** A socket that speaks HTTP/2 (negotiated, or the preface seen and put back). */
  accept(socket: Socket): void {
    this.server.emit("connection", socket);
  }

  /** New limits for sessions from now on (HTTP/2 SETTINGS are per session, sent at its start). */
  update(settings: ListenerHttp2): void {
    if (settings === this.settings) return;
    this.settings = settings;
    this.server.updateSettings(h2ServerOptions(settings).settings!);
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** GOAWAY to every session: open streams finish, new ones go elsewhere; all cut after `graceMs`. */
  close(graceMs: number): void {
    for (const s of this.sessions) {
      s.close();
      setTimeout(() => s.destroy(), graceMs).unref();
    }
  }

  private onSession(session: ServerHttp2Session): void {
    const cfg = this.table().config;
    const lstats = cfg?.stats;
    if (lstats) {
      lstats.totalConnections++;
      lstats.activeConnections++;
    }
    this.sessions.add(session);
    const s = this.settings;
    const budget = resetBudget(s.maxConcurrentStreams);
    const guard = new ResetGuard(budget.burst, budget.perSecond);
    const headMs = cfg?.timeouts.headMs ?? this.timeouts.clientHeadersMs;
    const streamIdleMs = cfg?.timeouts.idleMs ?? this.timeouts.idleMs;
    let open = 0;
    // The first request must come within the head timeout, as an HTTP/1.1 connection's first head.
    let firstRequest: NodeJS.Timeout | undefined = setTimeout(() => session.destroy(), headMs);
    firstRequest.unref();
    // One listener; setTimeout(ms) without a callback re-arms (with one it would add a listener each time).
    session.on("timeout", () => {
      if (open > 0) session.setTimeout(s.idleMs);
      else session.close();
    });
    session.setTimeout(s.idleMs);
    session.on("error", (e) => this.log.debug("http2 session error", { code: errorCode(e) }));
    session.once("close", () => {
      clearTimeout(firstRequest);
      this.sessions.delete(session);
      if (lstats) lstats.activeConnections--;
    });
    session.on("stream", (stream: ServerHttp2Stream) => {
      if (firstRequest !== undefined) {
        clearTimeout(firstRequest);
        firstRequest = undefined;
      }
      open++;
      stream.setTimeout(streamIdleMs, () => stream.close(NGHTTP2_CANCEL));
      stream.on("error", () => {});
      // Node emits 'aborted' for our own closes too (a cut body, the idle CANCEL, ENHANCE_YOUR_CALM,
      // a destroyed response): only a reset the client sent counts against its budget. A client
      // RST_STREAM reaches closeStream from nghttp2 without passing through close()/destroy().
      let closedHere = false;
      const close = stream.close;
      const destroy = stream.destroy;
      stream.close = function (this: ServerHttp2Stream, ...args: Parameters<ServerHttp2Stream["close"]>) {
        closedHere = true;
        return close.apply(this, args);
      };
      stream.destroy = function (this: ServerHttp2Stream, ...args: Parameters<ServerHttp2Stream["destroy"]>) {
        closedHere = true;
        return destroy.apply(this, args);
      };
      stream.once("aborted", () => {
        if (closedHere || guard.take()) return;
        this.log.warn("http2 rapid reset: session closed", { remote: session.socket?.remoteAddress });
        session.goaway(NGHTTP2_ENHANCE_YOUR_CALM);
        session.destroy();
      });
      stream.once("close", () => {
        open--;
        if (open === 0) session.setTimeout(s.idleMs);
      });
    });
  }
}

/**
 * node:http2 throws from writeHead/write/end/addTrailers on what it will not
 * send (a header it refuses, a body on a 204); whatever badH2ResponseHead did
 * not catch becomes a reset of that stream (INTERNAL_ERROR), never an
 * uncaught exception that takes every connection of the process with it.
 */
function guardWrites(res: Http2ServerResponse, log: Logger): void {
  const reset = (e: unknown) => {
    log.debug("http2 response refused by node: stream reset", { code: errorCode(e) });
    res.stream.close(NGHTTP2_INTERNAL_ERROR);
  };
  const writeHead = res.writeHead;
  const write = res.write;
  const end = res.end;
  const addTrailers = res.addTrailers;
  // biome-ignore lint/suspicious/noExplicitAny: the overloads of each method are passed through as they came.
  const wrap = (fn: (...a: any[]) => any, fallback: (r: Http2ServerResponse) => unknown) =>
    // biome-ignore lint/suspicious/noExplicitAny: see above.
    function (this: Http2ServerResponse, ...args: any[]) {
      try {
        return fn.apply(this, args);
      } catch (e) {
        reset(e);
        return fallback(this);
      }
    };
  res.writeHead = wrap(writeHead, (r) => r) as typeof res.writeHead;
  res.write = wrap(write, () => false) as typeof res.write;
  res.end = wrap(end, (r) => r) as typeof res.end;
  res.addTrailers = wrap(addTrailers, () => undefined) as typeof res.addTrailers;
}

/** A header list's size as SETTINGS_MAX_HEADER_LIST_SIZE counts it (RFC 9113 §6.5.2): octets plus 32 per field. */
export function headerListSize(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i++) n += raw[i]!.length;
  return n + (raw.length / 2) * 32;
}
