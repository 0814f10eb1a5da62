import type { AddressInfo } from "node:net";
import type { Logger } from "../../../log";
import type { RouteTable } from "../../pools/route-table";
import { HandshakeCounters } from "../../stats/handshake-counters";
import type { DataPlaneTimeouts } from "../../timeouts";
import { H2Front } from "../h2/h2-front";
import { type Listener, nextBindId } from "../listener";
import type { ListenerConfig } from "../listener-config";
import { TlsFront } from "../tls/tls-front";
import { type H1Options, optionsFromConfig, optionsFromTimeouts } from "./options";
import { H1Server } from "./server";

/**
 * An HTTP listener served by the h1 front end (h1/): request and response
 * heads parsed strictly, bodies forwarded as bytes with their own framing,
 * upstream keep-alive sockets pooled per backend. node:http's request and
 * response objects cost about twice the CPU per request (see the proxy speed
 * notes); the node:http path (http-proxy.ts) stays as the reference.
 *
 * With TLS in its config (issue 16) the listening socket is a TLS server
 * (tls/tls-front.ts) and the h1 connections run over the decrypted sockets;
 * certificate changes reach it through setConfig() without a rebind.
 *
 * With `http2` in its config (issue 18) HTTP/2 connections — ALPN h2 on TLS,
 * the client preface on a plain listener with h2c — go to an H2Front
 * (h2/h2-front.ts) sharing the listening socket, routes and counters.
 */
export class HttpListener implements Listener {
  readonly protocol = "http" as const;
  bindId = 0;
  private readonly h1: H1Server;
  private readonly tls: TlsFront | undefined;
  private readonly h2: H2Front | undefined;
  /** Which HTTP/2 the listener was made for ("" none, "h2", "h2c"): fixed by its socket set-up. */
  private readonly h2Mode: "" | "h2" | "h2c";

  constructor(
    readonly bindAddress: string,
    readonly port: number,
    table: RouteTable,
    private readonly timeouts: DataPlaneTimeouts,
    log: Logger,
  ) {
    const c = table.config;
    let secure: TlsFront | undefined;
    this.h2Mode = h2ModeOf(c);
    const h2 = this.h2Mode === "" ? undefined : new H2Front(() => this.h1.table, c!.http2!, timeouts, log);
    this.h2 = h2;
    this.h1 = new H1Server(
      table,
      this.optionsOf(table),
      log,
      c?.tls
        ? (accept) => {
            // The handshake must finish within the client's head timeout, like the head itself.
            secure = new TlsFront(
              c.tls!,
              c.handshakes ?? new HandshakeCounters(),
              c.timeouts.headMs,
              accept,
              c.ticketKey,
              this.h2Mode === "h2",
            );
            return secure.server;
          }
        : undefined,
      h2 && { accept: (socket) => h2.accept(socket), prefaceSniff: this.h2Mode === "h2c" },
    );
    this.tls = secure;
  }

  private optionsOf(table: RouteTable): H1Options {
    const c = table.config;
    return c ? optionsFromConfig(c, this.timeouts) : optionsFromTimeouts(this.timeouts);
  }

  /** A listener serves TLS or plain HTTP for its lifetime: switching one to the other re-creates it. */
  accepts(config: ListenerConfig): boolean {
    return (config.tls !== undefined) === (this.tls !== undefined) && h2ModeOf(config) === this.h2Mode;
  }

  /** Read per request, so keep-alive connections pick up a new table (and its settings) at their next request. */
  setTable(table: RouteTable): void {
    this.h1.setTable(table, table.config ? this.optionsOf(table) : undefined);
    if (table.config?.tls) this.tls?.update(table.config.tls);
    if (table.config?.http2) this.h2?.update(table.config.http2);
  }

  setConfig(config: ListenerConfig): void {
    this.h1.setTable(this.h1.table, optionsFromConfig(config, this.timeouts));
    if (config.tls) this.tls?.update(config.tls);
    if (config.http2) this.h2?.update(config.http2);
  }

  address(): AddressInfo {
    return this.h1.address();
  }

  async bind(): Promise<void> {
    await this.h1.listen(this.bindAddress, this.port);
    this.bindId = nextBindId();
  }

  close(graceMs: number): Promise<void> {
    this.tls?.detach();
    this.h2?.close(graceMs);
    return this.h1.close(graceMs);
  }
}

/** ALPN h2 needs TLS, h2c a plain listener; switching between them (or off) re-creates the listener. */
function h2ModeOf(c: ListenerConfig | undefined): "" | "h2" | "h2c" {
  const h = c?.http2;
  if (!h) return "";
  if (c.tls) return h.h2 ? "h2" : "";
  return h.h2c ? "h2c" : "";
}
