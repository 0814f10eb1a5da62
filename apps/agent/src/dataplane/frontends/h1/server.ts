import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import type { Logger } from "../../../log";
import type { RouteTable } from "../../pools/route-table";
import { acceptWithOnread, type OnRead, SHARED_READ_BUFFER } from "../../sockets/accept";
import { sniffPreface } from "../h2/preface";
import { EXCLUSIVE_BIND, LISTEN_BACKLOG } from "../listener";
import { ClientConn, type ConnHost } from "./connection";
import type { H1Options } from "./options";
import { UpstreamPool } from "./upstream-pool";

/** How often deadlines (head, keep-alive, connect, response) and idle upstream sockets are checked. */
const TICK_MS = 50;

/**
 * An HTTP/1.1 listener on plain `net` sockets: the h1 front end. It owns its
 * client connections and its pool of upstream keep-alive connections.
 */
export class H1Server implements ConnHost {
  readonly server: Server;
  readonly upstreams: UpstreamPool;
  draining = false;
  private readonly conns = new Set<ClientConn>();
  private ticker: NodeJS.Timeout | undefined;

  /**
   * `secureServer`: makes the listening server of a TLS listener (tls/tls-front.ts),
   * which hands over each socket once its handshake is done; absent, a plain one.
   * `h2`: where HTTP/2 connections go (h2/h2-front.ts): TLS sockets that
   * negotiated ALPN h2, or with `h2.prefaceSniff` plain ones that start with the
   * client preface (h2c with prior knowledge).
   */
  constructor(
    public table: RouteTable,
    public opts: H1Options,
    readonly log: Logger,
    private readonly secureServer?: (accept: (socket: Socket) => void) => Server,
    private readonly h2?: { accept(socket: Socket): void; readonly prefaceSniff: boolean },
  ) {
    this.upstreams = new UpstreamPool(opts.upstreamKeepAliveMs, opts.maxIdlePerBackend);
    const accept = (socket: Socket) => void this.onConnection(socket, false);
    // allowHalfOpen: a client may shut down its sending side after the request and still read the response.
    this.server = secureServer ? secureServer(accept) : createServer({ allowHalfOpen: true }, accept);
    this.server.maxConnections = opts.maxConnections;
  }

  /** New routes (and, with them, settings) for the next request on every connection. */
  setTable(table: RouteTable, opts?: H1Options): void {
    this.table = table;
    if (opts !== undefined) {
      this.opts = opts;
      this.server.maxConnections = opts.maxConnections;
    }
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  private onConnection(socket: Socket, sharedReads: boolean): ClientConn | undefined {
    if (this.draining) {
      socket.destroy();
      return undefined;
    }
    const h2 = this.h2;
    if (h2 !== undefined && !sharedReads) {
      if ((socket as Socket & { alpnProtocol?: string | false }).alpnProtocol === "h2") {
        h2.accept(socket);
        return undefined;
      }
      if (h2.prefaceSniff) {
        sniffPreface(socket, this.opts.timeouts.headMs, h2.accept, (s) => {
          this.startConn(s, false);
          s.resume();
        });
        return undefined;
      }
    }
    return this.startConn(socket, sharedReads);
  }

  private startConn(socket: Socket, sharedReads: boolean): ClientConn {
    const conn = new ClientConn(socket, this, sharedReads);
    this.conns.add(conn);
    if (this.ticker === undefined) {
      this.ticker = setInterval(() => this.tick(), TICK_MS);
      this.ticker.unref();
    }
    return conn;
  }

  private readonly onSharedReadSocket = (socket: Socket): OnRead => {
    const conn = this.onConnection(socket, true);
    if (conn === undefined) return () => false;
    return (n, buf) => {
      conn.onBytes((buf as Buffer).subarray(0, n), false);
      return true;
    };
  };

  forget(conn: ClientConn): void {
    this.conns.delete(conn);
  }

  private tick(): void {
    const now = Date.now();
    const idleMs = this.opts.timeouts.idleMs;
    for (const c of this.conns) {
      if (c.deadline !== 0 && c.deadline <= now) c.onDeadline();
      if (idleMs > 0) c.checkIdle(now, idleMs);
    }
    this.upstreams.sweep(now);
  }

  listen(host: string, port: number): Promise<void> {
    // A listener closed for a failed apply may be bound again.
    this.draining = false;
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.server.once("error", onError);
      this.server.listen({ host, port, exclusive: EXCLUSIVE_BIND, backlog: LISTEN_BACKLOG }, () => {
        this.server.off("error", onError);
        // TLS sockets read through their TLS layer: only plain ones take the shared read buffer.
        // h2c needs the first bytes as a stream it can put back: no shared reads then.
        if (this.secureServer === undefined && this.h2?.prefaceSniff !== true) {
          acceptWithOnread(this.server, SHARED_READ_BUFFER, this.onSharedReadSocket);
        }
        this.server.on("error", (e) => this.log.error("http listener error", { port, error: e.message }));
        resolve();
      });
    });
  }

  address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  /** Stops accepting; idle connections close now, busy ones after their response or after `graceMs`. */
  close(graceMs: number): Promise<void> {
    this.draining = true;
    return new Promise((resolve) => {
      const finish = () => {
        clearInterval(this.ticker);
        this.ticker = undefined;
        this.upstreams.destroyAll();
        resolve();
      };
      const force = setTimeout(() => {
        for (const c of this.conns) c.socket.destroy();
      }, graceMs);
      force.unref();
      if (!this.server.listening) {
        clearTimeout(force);
        for (const c of this.conns) c.socket.destroy();
        finish();
        return;
      }
      this.server.close(() => {
        clearTimeout(force);
        finish();
      });
      for (const c of [...this.conns]) c.drain();
    });
  }
}
