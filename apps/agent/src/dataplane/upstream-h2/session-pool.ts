import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  type OutgoingHttpHeaders,
} from "node:http2";
import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { LeasedBackend } from "../exchange";
import { UpstreamProtocolError, UpstreamTimeoutError } from "../http/proxy-errors";
import { upstreamTlsError } from "../pools/backend-tls";

/** Where sessions go; `connKey` (backend key + TLS settings) keeps plain and TLS sessions apart. */
export type H2Target = Pick<LeasedBackend, "key" | "connKey" | "address" | "port" | "tls">;

export interface H2SessionSettings {
  /** "h2": TLS with ALPN h2 and the pool's backend TLS settings; "h2c": HTTP/2 with prior knowledge. */
  readonly protocol: "h2" | "h2c";
  /** Our own cap; the server's SETTINGS_MAX_CONCURRENT_STREAMS lowers it. */
  readonly maxStreamsPerConnection: number;
  readonly connectMs: number;
  /** A session without open streams for this long is closed. */
  readonly idleMs: number;
}

/** Stream ids are 31 bits and never reused: a session this far along takes no new streams. */
const LAST_STREAM_ID = 2 ** 31 - 1024;

/**
 * One HTTP/2 connection to a backend. Errors are listened on from creation
 * (the session's own, the socket's through it), so none goes unhandled; a
 * session that got GOAWAY or is closing is `draining`: its open streams
 * finish, new ones go to another session.
 */
export class H2Conn {
  readonly session: ClientHttp2Session;
  /** Streams open on it now. */
  active = 0;
  /** Streams it carried, the first one included. */
  streams = 0;
  connected = false;
  draining = false;
  dead = false;
  /** Why it failed, when it did: the connect's error for streams that were waiting for it. */
  error: Error | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Streams waiting for the connection to send their body (one list, not a listener each). */
  private waiting: (() => void)[] = [];
  /** With TLS: the backend key, named in handshake errors. */
  private readonly tlsWhere: string | undefined;
  private connectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly group: H2SessionGroup,
    target: H2Target,
    private readonly settings: H2SessionSettings,
  ) {
    const { address: host, port, tls } = target;
    const authority = `${settings.protocol === "h2" ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`;
    this.session = connect(authority, {
      createConnection: () => {
        if (settings.protocol === "h2c" || tls === undefined) return netConnect({ host, port });
        const opts = tls.connectOptions(target.key, host);
        const ts = tlsConnect({ ...opts, host, port, ALPNProtocols: ["h2"] });
        ts.on("session", (s: Buffer) => tls.rememberSession(target.key, opts.servername || undefined, s));
        return ts;
      },
      // Our cap per connection is enforced here; the server's own limit arrives in its SETTINGS.
      peerMaxConcurrentStreams: settings.maxStreamsPerConnection,
    });
    const s = this.session;
    this.tlsWhere = settings.protocol === "h2" ? target.key : undefined;
    s.on("error", (e: Error) => {
      this.connectError(e);
    });
    s.on("connect", () => {
      clearTimeout(this.connectTimer);
      this.connected = true;
      for (const fn of this.waiting.splice(0)) fn();
      if (s.alpnProtocol !== undefined && settings.protocol === "h2" && s.alpnProtocol !== "h2") {
        this.fail(new UpstreamProtocolError(`backend ${target.key} did not agree to HTTP/2 (ALPN)`));
      }
    });
    s.on("goaway", () => {
      this.draining = true;
      this.group.forget(this);
    });
    s.on("close", () => {
      this.waiting.length = 0;
      clearTimeout(this.connectTimer);
      clearTimeout(this.idleTimer);
      this.dead = true;
      this.draining = true;
      this.group.forget(this);
    });
    this.connectTimer = setTimeout(
      () => this.fail(new UpstreamTimeoutError("connect", settings.connectMs)),
      settings.connectMs,
    );
    this.connectTimer.unref();
  }

  /**
   * Why the connection failed, given an error seen by it or one of its streams
   * (whichever comes first): before it is up, a TLS error is the handshake's,
   * and says so (verification, protocol), as the HTTP/1.1 pool's does.
   */
  connectError(e: Error): Error {
    // A stream waiting for the connection is cancelled "caused by" the connection's error: that one counts.
    const cause = (e as { cause?: unknown }).cause;
    const root =
      (e as NodeJS.ErrnoException).code === "ERR_HTTP2_STREAM_CANCEL" && cause instanceof Error ? cause : e;
    // As the HTTP/1.1 pool does: any error before a TLS connection is up is the handshake's.
    this.error ??=
      this.tlsWhere !== undefined && !this.connected ? upstreamTlsError(root, this.tlsWhere) : root;
    return this.error;
  }

  /** Runs `fn` once the connection is up (never, when it fails: its streams fail instead). */
  whenConnected(fn: () => void): void {
    if (this.connected) fn();
    else this.waiting.push(fn);
  }

  /** Streams it may still open: our cap, lowered by the server's SETTINGS_MAX_CONCURRENT_STREAMS. */
  get room(): number {
    if (this.draining || this.dead) return 0;
    const theirs = this.session.remoteSettings?.maxConcurrentStreams ?? Number.POSITIVE_INFINITY;
    return Math.min(this.settings.maxStreamsPerConnection, theirs) - this.active;
  }

  /** Opens a stream (queued by node until the session is up); counted until its 'close'. */
  open(headers: OutgoingHttpHeaders, endStream: boolean): ClientHttp2Stream {
    // With a body, the client's trailers (or none) end the stream: gRPC and others carry fields there.
    // node:http2 throws on a head it refuses: counted only once the stream exists, so a throw leaks nothing.
    const stream = this.session.request(headers, { endStream, waitForTrailers: !endStream });
    clearTimeout(this.idleTimer);
    this.active++;
    this.streams++;
    stream.once("close", () => this.streamClosed());
    if ((this.session.state.nextStreamID ?? 0) >= LAST_STREAM_ID) {
      this.draining = true;
      this.group.forget(this);
      this.session.close();
    }
    return stream;
  }

  private streamClosed(): void {
    this.active--;
    if (this.active > 0 || this.dead) return;
    if (this.draining) {
      this.session.close();
      return;
    }
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.close(), this.settings.idleMs);
    this.idleTimer.unref();
  }

  /** No new streams; open ones finish, then the connection closes (GOAWAY from our side). */
  close(): void {
    this.draining = true;
    this.group.forget(this);
    if (!this.session.closed && !this.session.destroyed) this.session.close();
  }

  /** Every stream on it fails with `err` (connect timeout, a backend that does not speak h2). */
  fail(err: Error): void {
    this.error ??= err;
    this.draining = true;
    this.group.forget(this);
    this.session.destroy(err);
  }
}

/**
 * The sessions to one backend (one `connKey`) with one pool's settings:
 * streams go to the first session with room, so a backend sees as few
 * connections as the stream cap allows; a full or draining set opens another.
 */
export class H2SessionGroup {
  private readonly live: H2Conn[] = [];
  /** Sessions opened; streams opened, and those that went on an already used session (reuse). */
  opened = 0;
  streams = 0;
  reusedStreams = 0;

  constructor(
    readonly target: H2Target,
    readonly settings: H2SessionSettings,
  ) {}

  /** A session with room for one more stream (maybe still connecting: check `connected`). */
  take(): H2Conn {
    this.streams++;
    for (const c of this.live) {
      if (c.room > 0) {
        this.reusedStreams++;
        return c;
      }
    }
    const c = new H2Conn(this, this.target, this.settings);
    this.opened++;
    this.live.push(c);
    return c;
  }

  forget(c: H2Conn): void {
    const i = this.live.indexOf(c);
    if (i !== -1) this.live.splice(i, 1);
  }

  /** Sessions taking new streams now. */
  get sessions(): number {
    return this.live.length;
  }

  /** The backend left the snapshot: no new streams; open ones finish, then each connection closes. */
  closeAll(): void {
    for (const c of [...this.live]) c.close();
  }

  destroyAll(): void {
    for (const c of [...this.live]) c.session.destroy();
    this.live.length = 0;
  }
}

/**
 * Every upstream HTTP/2 session group of the engine, by connKey and
 * settings, kept across snapshots so a reconfiguration keeps warm sessions;
 * compile asks, commit prunes (`retainOnly`).
 */
export class H2Upstreams {
  private groups = new Map<string, H2SessionGroup>();

  group(target: H2Target, settings: H2SessionSettings): H2SessionGroup {
    const key = `${target.connKey}|${settings.protocol}|${settings.maxStreamsPerConnection}|${settings.connectMs}|${settings.idleMs}`;
    let g = this.groups.get(key);
    if (g === undefined) {
      g = new H2SessionGroup(target, settings);
      this.groups.set(key, g);
    }
    return g;
  }

  /** Keeps the groups the new snapshot uses; the others drain (open streams finish) and close. */
  retainOnly(used: ReadonlySet<H2SessionGroup>): void {
    for (const [key, g] of this.groups) {
      if (used.has(g)) continue;
      this.groups.delete(key);
      g.closeAll();
    }
  }

  /** Sessions open and streams carried, over every backend (for tests and stats). */
  totals(): { sessions: number; opened: number; streams: number; reusedStreams: number } {
    let sessions = 0;
    let opened = 0;
    let streams = 0;
    let reusedStreams = 0;
    for (const g of this.groups.values()) {
      sessions += g.sessions;
      opened += g.opened;
      streams += g.streams;
      reusedStreams += g.reusedStreams;
    }
    return { sessions, opened, streams, reusedStreams };
  }

  destroyAll(): void {
    for (const g of this.groups.values()) g.destroyAll();
    this.groups.clear();
  }
}
