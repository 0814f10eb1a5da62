import { connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { LeasedBackend } from "../../exchange";
import { UpstreamProtocolError } from "../../http/proxy-errors";
import { upstreamTlsError } from "../../pools/backend-tls";
import { HeaderFields } from "./header-lines";

const EMPTY = Buffer.alloc(0);

/** Read buffer per upstream connection (Node's own reads allocate 64 KiB and shrink it, per read). */
const READ_BUFFER_BYTES = 32 * 1024;

/** Whoever is using an upstream connection for an exchange. */
export interface UpstreamOwner {
  onUpstreamConnect(): void;
  /**
   * Bytes from the backend. `chunk` is a view of the connection's read
   * buffer, reused for the next read: return true when any part of it is
   * still referenced after the call (queued in a socket's write buffer, held
   * by a head reader), and the connection reads into a fresh buffer next.
   */
  onUpstreamData(chunk: Buffer): boolean;
  onUpstreamDrain(): void;
  /** The connection ended (FIN, reset, error, destroy); reported once. `err` is undefined for a clean FIN. */
  onUpstreamGone(up: UpstreamConn, err: Error | undefined): void;
}

/** Where an upstream connection goes; `connKey` picks its idle stack, `key` names the backend (retries exclude it). */
type UpstreamTarget = Pick<LeasedBackend, "key" | "connKey" | "address" | "port" | "tls">;

/**
 * One TCP (or TLS) connection to a backend. Its listeners are attached once, at
 * creation (the 'error' one first, so no error can go unhandled), and forward
 * to the current owner: an exchange borrowing a pooled socket adds no
 * listeners and allocates no closures. Reads go through net's `onread` into
 * one buffer per connection (no stream machinery and no new ArrayBuffer per
 * read); the buffer is replaced only when the owner kept a reference to it.
 */
export class UpstreamConn {
  readonly socket: Socket;
  owner: UpstreamOwner | undefined;
  /** Taken from the idle pool at least once: a failure before any response byte may be a stale keep-alive. */
  reused = false;
  connected = false;
  dead = false;
  /**
   * Reused by every response head read on this connection: one exchange at a
   * time, and a head's fields are written out before the next head is read.
   * It lives here, not on the client connection, so idle clients hold none.
   */
  readonly respFields = new HeaderFields(EMPTY);
  idleSince = 0;
  private lastError: Error | undefined;
  private reported = false;
  private rbuf: Buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  /** The owner kept a view of `rbuf`: the next read needs a new one. */
  private lent = false;

  readonly key: string;
  readonly connKey: string;

  constructor(
    private readonly pool: UpstreamPool,
    target: UpstreamTarget,
  ) {
    this.key = target.key;
    this.connKey = target.connKey;
    const { address: host, port, tls } = target;
    let s: Socket;
    if (tls === undefined) {
      s = connect({
        host,
        port,
        onread: {
          buffer: () => this.readBuffer(),
          callback: (n: number, buf: Uint8Array) => this.onRead(n, buf as Buffer),
        },
      });
    } else {
      // TLS sockets take no `onread`: reads arrive as 'data' chunks, each a fresh buffer.
      const opts = tls.connectOptions(target.key, host);
      const ts = tlsConnect({ ...opts, host, port });
      ts.on("session", (session: Buffer) =>
        tls.rememberSession(target.key, opts.servername || undefined, session),
      );
      ts.on("data", (chunk: Buffer) => this.onTlsData(chunk));
      s = ts;
    }
    this.socket = s;
    s.on("error", (e: Error) => {
      // Before the handshake is done, the error is the handshake's: say so (verification, protocol).
      this.lastError ??= tls !== undefined && !this.connected ? upstreamTlsError(e, target.key) : e;
    });
    s.setNoDelay(true);
    s.on(tls === undefined ? "connect" : "secureConnect", () => {
      this.connected = true;
      this.owner?.onUpstreamConnect();
    });
    s.on("drain", () => this.owner?.onUpstreamDrain());
    s.on("end", () => this.gone(undefined));
    s.on("close", () =>
      this.gone(this.lastError ?? new UpstreamProtocolError("upstream closed the connection")),
    );
  }

  private readBuffer(): Buffer {
    if (this.lent) {
      this.lent = false;
      this.rbuf = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    }
    return this.rbuf;
  }

  /** Returns true: reading goes on unless the owner paused the socket. */
  private onRead(n: number, buf: Buffer): boolean {
    const owner = this.owner;
    // Bytes nobody asked for on an idle connection: it cannot be trusted for the next request.
    if (owner === undefined) this.destroy();
    else if (owner.onUpstreamData(buf.subarray(0, n))) this.lent = true;
    return true;
  }

  private onTlsData(chunk: Buffer): void {
    const owner = this.owner;
    if (owner === undefined) this.destroy();
    else owner.onUpstreamData(chunk);
  }

  private gone(err: Error | undefined): void {
    this.dead = true;
    this.pool.forget(this);
    if (!this.reported) {
      this.reported = true;
      const owner = this.owner;
      this.owner = undefined;
      owner?.onUpstreamGone(this, err);
    }
    if (!this.socket.destroyed) this.socket.destroy();
  }

  destroy(err?: Error): void {
    if (err !== undefined) this.lastError ??= err;
    this.dead = true;
    this.socket.destroy();
  }
}

/**
 * Idle keep-alive connections per backend key ("address:port"). LIFO: the
 * most recently used socket is the least likely to have been closed by the
 * backend's own keep-alive timer, and the oldest ones age out.
 */
export class UpstreamPool {
  private readonly idle = new Map<string, UpstreamConn[]>();

  constructor(
    private readonly keepAliveMs: number,
    private readonly maxIdlePerKey: number,
  ) {}

  /** An idle connection to the target's `connKey`, or a new one (check `connected`). */
  take(target: UpstreamTarget): UpstreamConn {
    const stack = this.idle.get(target.connKey);
    if (stack !== undefined) {
      while (stack.length > 0) {
        const up = stack.pop()!;
        if (up.dead) continue;
        up.reused = true;
        return up;
      }
    }
    return new UpstreamConn(this, target);
  }

  /** A new connection, never a pooled one (the retry after a stale pooled connection). */
  open(target: UpstreamTarget): UpstreamConn {
    return new UpstreamConn(this, target);
  }

  /** Back to the pool after a complete exchange; the caller has already cleared `owner`. */
  release(up: UpstreamConn): void {
    if (up.dead) return;
    let stack = this.idle.get(up.connKey);
    if (stack === undefined) {
      stack = [];
      this.idle.set(up.connKey, stack);
    }
    if (stack.length >= this.maxIdlePerKey) {
      up.destroy();
      return;
    }
    up.owner = undefined;
    up.idleSince = Date.now();
    if (up.socket.isPaused()) up.socket.resume();
    stack.push(up);
  }

  forget(up: UpstreamConn): void {
    const stack = this.idle.get(up.connKey);
    if (stack === undefined) return;
    const i = stack.lastIndexOf(up);
    if (i !== -1) stack.splice(i, 1);
  }

  /** Closes connections idle longer than the keep-alive time (oldest sit at the bottom of each stack). */
  sweep(now: number): void {
    const limit = now - this.keepAliveMs;
    for (const stack of this.idle.values()) {
      let n = 0;
      while (n < stack.length && stack[n]!.idleSince <= limit) n++;
      if (n === 0) continue;
      for (const up of stack.splice(0, n)) up.destroy();
    }
  }

  get idleCount(): number {
    let n = 0;
    for (const s of this.idle.values()) n += s.length;
    return n;
  }

  destroyAll(): void {
    for (const stack of this.idle.values()) for (const up of stack.splice(0)) up.destroy();
    this.idle.clear();
  }
}
