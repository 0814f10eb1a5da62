import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import type { Logger } from "../../../log";
import type { RouteTable } from "../../pools/route-table";
import { acceptWithOnread, type OnRead, SHARED_READ_BUFFER } from "../../sockets/accept";
import { IdleWatch } from "../../sockets/idle-watch";
import { countConnection } from "../../stats/counters";
import type { DataPlaneTimeouts } from "../../timeouts";
import { closeServer, type Listener, listen, nextBindId } from "../listener";
import type { ListenerConfig } from "../listener-config";
import { handleTcpConnection, type TcpProxyContext } from "./tcp-proxy";

/** How often idle tunnels are looked for: idle timeouts fire within two ticks of `idleMs`. */
const IDLE_TICK_MS = 100;

export class TcpListener implements Listener {
  readonly protocol = "tcp" as const;
  bindId = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private ctx: TcpProxyContext;
  private readonly idle = new IdleWatch(IDLE_TICK_MS);

  constructor(
    readonly bindAddress: string,
    readonly port: number,
    table: RouteTable,
    timeouts: DataPlaneTimeouts,
    private readonly log: Logger,
  ) {
    this.ctx = { table, timeouts, log, idle: this.idle };
    // The 'connection' event serves only if the accept takeover (bind) is not possible on this Node.
    this.server = createServer({ allowHalfOpen: true }, (socket) => {
      this.onConnection(socket, false);
    });
    this.applyLimits(table.config);
  }

  private onConnection(socket: Socket, sharedReads: boolean) {
    countConnection(this.ctx.table.config?.stats, socket);
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    return handleTcpConnection(this.ctx, socket, sharedReads);
  }

  private readonly onSharedReadSocket = (socket: Socket): OnRead => {
    const tunnel = this.onConnection(socket, true);
    if (tunnel === undefined) return () => false;
    return (n, buf) => {
      tunnel.onClientBytes((buf as Buffer).subarray(0, n), false);
      return true;
    };
  };

  /** The table carries the listener's compiled settings (limits, timeouts) with it. */
  setTable(table: RouteTable): void {
    this.ctx = { ...this.ctx, table };
    this.applyLimits(table.config);
  }

  private applyLimits(config: ListenerConfig | undefined): void {
    if (config) this.server.maxConnections = config.maxConnections;
  }

  address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  async bind(): Promise<void> {
    await listen(this.server, this.bindAddress, this.port);
    acceptWithOnread(this.server, SHARED_READ_BUFFER, this.onSharedReadSocket);
    this.bindId = nextBindId();
    this.server.on("error", (e) =>
      this.log.error("tcp listener error", { port: this.port, error: e.message }),
    );
  }

  close(graceMs: number): Promise<void> {
    return closeServer(this.server, graceMs, () => {
      for (const s of this.sockets) s.destroy();
    });
  }
}
