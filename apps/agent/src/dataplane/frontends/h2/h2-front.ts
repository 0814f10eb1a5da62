import {
  constants,
  createServer,
  type Http2Server,
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

const { NGHTTP2_CANCEL, NGHTTP2_ENHANCE_YOUR_CALM } = constants;

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
      stream.once("aborted", () => {
        if (guard.take()) return;
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

/** A header list's size as SETTINGS_MAX_HEADER_LIST_SIZE counts it (RFC 9113 §6.5.2): octets plus 32 per field. */
export function headerListSize(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i++) n += raw[i]!.length;
  return n + (raw.length / 2) * 32;
}
