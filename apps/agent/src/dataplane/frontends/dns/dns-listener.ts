import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { type AddressInfo, createServer, isIPv6, type Server, type Socket } from "node:net";
import { dnsListenerSettingsSchema } from "@fulcrum/protocol";
import type { Logger } from "../../../log";
import type { RouteTable } from "../../pools/route-table";
import { countConnection } from "../../stats/counters";
import { closeServer, EXCLUSIVE_BIND, type Listener, listen, nextBindId } from "../listener";
import type { ListenerConfig } from "../listener-config";
import { answerQuery, type DnsAnswerContext } from "./answer";
import { DnsNameIndex } from "./names";

/** A DNS-over-TCP message is at most 65535 bytes behind its 2-byte length. */
const MAX_TCP_BUFFER = 2 + 65_535;
/** At most one "dropped" warning per listener per this many ms: a flood must not flood the log too. */
const DROP_LOG_EVERY_MS = 10_000;

/**
 * A `dns` listener: A/AAAA answers for its routes' names from their pools,
 * over UDP and/or TCP (RFC 1035 4.2.2 framing) on one port. Routing and
 * settings are swapped in place like the other listeners; only a transport
 * change needs new sockets (`accepts`).
 */
export class DnsListener implements Listener {
  readonly protocol = "dns" as const;
  bindId = 0;
  /** Packets dropped without an answer (undecodable, or not a query) since start. */
  dropped = 0;
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private ctx: DnsAnswerContext;
  private readonly transport: "udp" | "tcp" | "both";
  private lastDropLog = 0;

  constructor(
    readonly bindAddress: string,
    readonly port: number,
    table: RouteTable,
    private readonly log: Logger,
  ) {
    this.ctx = contextOf(table);
    this.transport = this.ctx.settings.transport;
  }

  /** A kept listener must already have the sockets the new config asks for. */
  accepts(config: ListenerConfig): boolean {
    return config.dns?.transport === this.transport;
  }

  setTable(table: RouteTable): void {
    this.ctx = contextOf(table);
    if (this.tcp) this.tcp.maxConnections = this.ctx.settings.maxConnections;
  }

  address(): AddressInfo {
    return (this.udp?.address() ?? this.tcp?.address()) as AddressInfo;
  }

  async bind(): Promise<void> {
    let port = this.port;
    try {
      if (this.transport !== "tcp") {
        this.udp = await bindUdp(
          this.bindAddress,
          port,
          (msg, rinfo) => this.onDatagram(msg, rinfo),
          this.log,
        );
        // Port 0 (tests): TCP takes the port UDP was given, so both answer on one port.
        port = this.udp.address().port;
      }
      if (this.transport !== "udp") {
        const tcp = createServer((socket) => this.onConnection(socket));
        tcp.maxConnections = this.ctx.settings.maxConnections;
        await listen(tcp, this.bindAddress, port);
        tcp.on("error", (e) => this.log.error("dns tcp listener error", { port, error: e.message }));
        this.tcp = tcp;
      }
    } catch (e) {
      this.udp?.close();
      this.udp = undefined;
      throw e;
    }
    this.bindId = nextBindId();
  }

  close(graceMs: number): Promise<void> {
    const udp = this.udp;
    this.udp = undefined;
    // A datagram is answered at once, so UDP has nothing to finish.
    if (udp) udp.close();
    const tcp = this.tcp;
    this.tcp = undefined;
    if (!tcp) return Promise.resolve();
    return closeServer(tcp, graceMs, () => {
      for (const s of this.sockets) s.destroy();
    });
  }

  private onDatagram(msg: Buffer, rinfo: { address: string; port: number }): void {
    const r = answerQuery(this.ctx, msg, rinfo.address, "udp");
    if ("dropped" in r) this.drop(r.dropped, rinfo.address);
    else this.udp?.send(r.reply, rinfo.port, rinfo.address);
  }

  private onConnection(socket: Socket): void {
    socket.on("error", () => {});
    countConnection(this.ctx.listenerStats, socket);
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    socket.setNoDelay(true);
    // Idle between queries (or a query that never completes): closed.
    socket.setTimeout(this.ctx.settings.tcpIdleMs, () => socket.destroy());
    let buf: Buffer = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        const r = answerQuery(this.ctx, msg, socket.remoteAddress, "tcp");
        if ("dropped" in r) {
          // The stream can't be trusted past a bad message: close it.
          this.drop(r.dropped, socket.remoteAddress);
          socket.destroy();
          return;
        }
        const framed = Buffer.allocUnsafe(2 + r.reply.length);
        framed.writeUInt16BE(r.reply.length, 0);
        r.reply.copy(framed, 2);
        socket.write(framed);
      }
      if (buf.length > MAX_TCP_BUFFER) socket.destroy();
    });
  }

  private drop(reason: string, from: string | undefined): void {
    this.dropped++;
    const now = Date.now();
    if (now - this.lastDropLog < DROP_LOG_EVERY_MS) return;
    this.lastDropLog = now;
    this.log.warn("dns packet dropped", { port: this.port, from, reason, droppedSoFar: this.dropped });
  }
}

function contextOf(table: RouteTable): DnsAnswerContext {
  const c = table.config;
  return {
    names: new DnsNameIndex(table.routes),
    settings: c?.dns ?? dnsListenerSettingsSchema.parse({}),
    listenerStats: c?.stats,
  };
}

function bindUdp(
  address: string,
  port: number,
  onMessage: (msg: Buffer, rinfo: { address: string; port: number }) => void,
  log: Logger,
): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: isIPv6(address) ? "udp6" : "udp4" });
    const onError = (e: Error) => {
      try {
        socket.close();
      } catch {
        // Never bound: nothing to close.
      }
      reject(e);
    };
    socket.once("error", onError);
    socket.bind({ address, port, exclusive: EXCLUSIVE_BIND }, () => {
      socket.off("error", onError);
      socket.on("error", (e) => log.error("dns udp socket error", { port, error: e.message }));
      socket.on("message", onMessage);
      resolve(socket);
    });
  });
}
