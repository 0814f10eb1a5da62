/**
 * HTTP/1.1 clients of a pool that speaks HTTP/2 to its backends (upstream
 * h2/h2c). The h1 front end forwards bodies as bytes in their HTTP/1.1
 * framing, which an HTTP/2 stream cannot take, so such a connection is
 * handed, from the request that routed there on, to the node:http front end
 * (node-http/http-proxy.ts), which forwards through upstream-h2/forward.ts:
 * its bytes go to an in-process node:http server through BridgeSocket, the
 * answers come back to the client socket. The connection stays there for
 * the rest of its life (its later requests may go to any pool, and node:http
 * serves them all). Counters are moved, not doubled: the node:http side
 * counts the connection and the request again, so the h1 side gives them up.
 */

import { createServer, type Server } from "node:http";
import type { Socket } from "node:net";
import { Duplex } from "node:stream";
import { DEFAULT_TIMEOUTS } from "../../timeouts";
import { handleHttpRequest } from "../node-http/http-proxy";
import { S_BRIDGED } from "./conn-states";
import type { ClientConn, ConnHost } from "./connection";

/** The client socket as the in-process node:http server sees it. */
class BridgeSocket extends Duplex {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  /** Read by the node:http front end for X-Forwarded-Proto. */
  readonly encrypted: boolean;

  constructor(private readonly conn: ClientConn) {
    super({ allowHalfOpen: true });
    const s = conn.socket;
    this.remoteAddress = s.remoteAddress;
    this.remotePort = s.remotePort;
    this.localAddress = s.localAddress;
    this.localPort = s.localPort;
    this.encrypted = (s as Socket & { encrypted?: boolean }).encrypted === true;
  }

  override _read(): void {
    const s = this.conn.socket;
    if (s.isPaused() && !s.destroyed) s.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    const s = this.conn.socket;
    this.conn.active = true;
    if (s.destroyed) {
      cb();
      return;
    }
    if (s.write(chunk)) cb();
    else s.once("drain", () => cb());
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.conn.socket.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.conn.socket.destroy();
    cb(err);
  }

  /** Client bytes for the node:http server; false: the client socket pauses until it reads again. */
  feed(chunk: Buffer): void {
    if (!this.push(chunk)) this.conn.socket.pause();
  }

  // What node:http calls on a net.Socket: the h1 listener's own ticker keeps the idle timeout.
  setTimeout(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  destroySoon(): void {
    this.end();
  }
}

const servers = new WeakMap<ConnHost, Server>();

/** The host's in-process node:http server, reading the host's current table at each request. */
function serverOf(host: ConnHost): Server {
  let server = servers.get(host);
  if (server === undefined) {
    const s = createServer({ joinDuplicateHeaders: false, maxHeaderSize: host.opts.maxHeaderBytes });
    s.on("request", (req, res) => {
      const t = host.opts.timeouts;
      const timeouts = {
        ...DEFAULT_TIMEOUTS,
        upstreamConnectMs: t.connectMs,
        upstreamResponseMs: t.responseMs,
        idleMs: t.idleMs,
      };
      handleHttpRequest({ table: host.table, timeouts, log: host.log }, req, res);
    });
    s.on("clientError", (_err, socket) => socket.destroy());
    server = s;
    servers.set(host, s);
  }
  return server;
}

/**
 * Hands the connection over at its current request: the request head's bytes
 * (and whatever followed them) are replayed into the node:http server, which
 * routes and answers it; the counts h1 made for it are taken back first.
 */
export function bridgeToNodeHttp(c: ClientConn): void {
  const req = c.req!;
  if (c.lstats !== undefined) {
    c.lstats.requests--;
    c.lstats.totalConnections--;
    c.lstats.activeConnections--;
  }
  if (c.rstats !== undefined) c.rstats.requests--;
  if (c.pstats !== undefined) c.pstats.requests--;
  c.clearDeadline();
  c.state = S_BRIDGED;
  c.req = undefined;
  const bridge = new BridgeSocket(c);
  c.bridge = bridge;
  const head = req.buf.subarray(req.start, req.end);
  const pending = c.pending;
  c.pending = undefined;
  serverOf(c.host).emit("connection", bridge);
  bridge.feed(pending === undefined ? Buffer.from(head) : Buffer.concat([head, pending]));
  if (c.clientEnded) bridge.push(null);
  if (c.socket.isPaused()) c.socket.resume();
}
