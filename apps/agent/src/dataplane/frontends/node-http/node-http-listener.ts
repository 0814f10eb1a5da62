import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { errorCode } from "../../../errors";
import type { Logger } from "../../../log";
import type { RouteTable } from "../../pools/route-table";
import { countResponse } from "../../stats/counters";
import type { DataPlaneTimeouts } from "../../timeouts";
import { closeServer, type Listener, listen, nextBindId } from "../listener";
import type { ListenerConfig } from "../listener-config";
import { type HttpProxyContext, handleHttpRequest } from "./http-proxy";
import { handleUpgrade } from "./upgrade-proxy";

/**
 * The node:http front end (http-proxy.ts, upgrade-proxy.ts): the reference
 * path, selected with NodeEngineOptions.httpFrontEnd = "node". The default
 * HttpListener (h1/) is about twice as cheap per request.
 */
export class NodeHttpListener implements Listener {
  readonly protocol = "http" as const;
  bindId = 0;
  private readonly server: Server;
  /** Read per request, so keep-alive connections pick up a new table at their next request. */
  private ctx: HttpProxyContext;

  constructor(
    readonly bindAddress: string,
    readonly port: number,
    table: RouteTable,
    timeouts: DataPlaneTimeouts,
    private readonly log: Logger,
  ) {
    this.ctx = { table, timeouts, log };
    this.server = createServer({
      maxHeaderSize: table.config?.maxHeaderBytes,
      headersTimeout: timeouts.clientHeadersMs,
      requestTimeout: timeouts.clientRequestMs,
      keepAliveTimeout: timeouts.clientKeepAliveMs,
      // Node checks headersTimeout on this interval (default 30 s): a listener's headMs of a few
      // seconds would otherwise fire up to 30 s late.
      connectionsCheckingInterval: 1000,
      // Node would otherwise strip duplicates; a proxy passes what it got.
      joinDuplicateHeaders: false,
    });
    this.server.timeout = timeouts.idleMs;
    if (table.config) this.server.maxConnections = table.config.maxConnections;
    this.server.on("request", (req, res) => handleHttpRequest(this.ctx, req, res));
    this.server.on("upgrade", (req, socket, head) => handleUpgrade(this.ctx, req, socket, head));
    this.server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
      log.debug("http client error", { listener: `${bindAddress}:${port}`, code: errorCode(err) });
      // A connection that never sent a byte hears nothing at the head timeout (as the h1 front end, nginx, HAProxy).
      const silent = err.code === "ERR_HTTP_REQUEST_TIMEOUT" && socket.bytesRead === 0;
      if (socket.writable && err.code !== "ECONNRESET" && !silent) {
        // As the h1 front end: 431 for a head too large, 408 for a head (or request) too slow, else 400.
        const [status, text, reason] =
          err.code === "HPE_HEADER_OVERFLOW"
            ? [431, "Request Header Fields Too Large", "head-too-large"]
            : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
              ? [408, "Request Timeout", "head-timeout"]
              : [400, "Bad Request", "bad-request"];
        const lstats = this.ctx.table.config?.stats;
        if (lstats) {
          lstats.requests++;
          countResponse(status, lstats);
        }
        socket.end(
          `HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\nx-fulcrum-reason: ${reason}\r\n\r\n`,
        );
      }
      socket.destroy();
    });
  }

  setTable(table: RouteTable): void {
    this.ctx = { ...this.ctx, table };
  }

  /** Settings a live node:http server can change; maxHeaderBytes needs a new listener. */
  setConfig(config: ListenerConfig): void {
    this.server.headersTimeout = config.timeouts.headMs;
    this.server.timeout = config.timeouts.idleMs;
    this.server.keepAliveTimeout = config.timeouts.clientKeepAliveMs;
    this.server.maxConnections = config.maxConnections;
  }

  address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  async bind(): Promise<void> {
    await listen(this.server, this.bindAddress, this.port);
    this.bindId = nextBindId();
    this.server.on("error", (e) =>
      this.log.error("http listener error", { port: this.port, error: e.message }),
    );
  }

  close(graceMs: number): Promise<void> {
    const done = closeServer(this.server, graceMs, () => this.server.closeAllConnections());
    this.server.closeIdleConnections();
    return done;
  }
}
