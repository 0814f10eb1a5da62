import type { Socket } from "node:net";
import { createServer, type SecureContext, type Server, type TLSSocket } from "node:tls";
import type { HandshakeCounters } from "../../stats/handshake-counters";
import { ALPN_PROTOCOLS, type CompiledTls } from "./listener-tls";

/** The error an SNICallback reports for a name the listener does not serve (counted as unknownName). */
const UNKNOWN_NAME = "ERR_FULCRUM_UNKNOWN_SNI";

/**
 * TLS in front of an h1 server: a node:tls server whose decrypted sockets go
 * to the same connection handler as plain ones, so framing, limits, timeouts
 * and statistics are the h1 front end's own. Certificates come from the
 * current CompiledTls, read by the SNI callback at each handshake: update()
 * swaps it (and the no-SNI context) without rebinding, connections already
 * open keep their session, and the session-ticket keys are carried over so
 * clients resume across the swap.
 */
export class TlsFront {
  readonly server: Server;
  private current: CompiledTls;

  constructor(
    settings: CompiledTls,
    private readonly counters: HandshakeCounters,
    handshakeTimeoutMs: number,
    accept: (socket: Socket) => void,
  ) {
    this.current = settings;
    this.server = createServer(
      {
        ...settings.serverContext,
        ALPNProtocols: ALPN_PROTOCOLS,
        SNICallback: this.selectContext,
        handshakeTimeout: handshakeTimeoutMs,
        // A client may shut down its sending side after the request and still read the response.
        allowHalfOpen: true,
      },
      (socket: TLSSocket) => {
        this.counters.handshakes++;
        if (socket.isSessionReused()) this.counters.resumed++;
        accept(socket);
      },
    );
    this.server.on("tlsClientError", (e: NodeJS.ErrnoException, socket: TLSSocket) => {
      this.countFailure(e, socket);
      socket.destroy();
    });
  }

  get settings(): CompiledTls {
    return this.current;
  }

  /** New certificates (and versions, HSTS) for handshakes from now on. */
  update(settings: CompiledTls): void {
    if (settings === this.current) return;
    const ticketKeys = this.server.getTicketKeys();
    this.current = settings;
    this.server.setSecureContext({ ...settings.serverContext, ticketKeys });
  }

  private readonly selectContext = (
    servername: string,
    cb: (err: Error | null, ctx?: SecureContext) => void,
  ): void => {
    const ctx = this.current.sni.select(servername);
    if (ctx !== undefined) cb(null, ctx);
    else cb(Object.assign(new Error(`no certificate for ${servername}`), { code: UNKNOWN_NAME }));
  };

  private countFailure(e: NodeJS.ErrnoException, socket: TLSSocket): void {
    const c = this.counters;
    switch (e.code) {
      case UNKNOWN_NAME:
        c.failedUnknownName++;
        return;
      case "ERR_SSL_NO_SHARED_CIPHER":
      case "ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM":
        // Without SNI on a listener that rejects unknown names there is no certificate at all.
        if (!socket.servername && this.current.sni.rejectUnknown) c.failedUnknownName++;
        else c.failedNoSharedCipher++;
        return;
      case "ERR_SSL_UNSUPPORTED_PROTOCOL":
      case "ERR_SSL_WRONG_VERSION_NUMBER":
      case "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION":
        c.failedProtocolVersion++;
        return;
      default:
        c.failedOther++;
    }
  }
}
