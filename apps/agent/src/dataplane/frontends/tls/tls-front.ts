import type { Socket } from "node:net";
import { createServer, type SecureContext, type Server, type TLSSocket } from "node:tls";
import type { HandshakeCounters } from "../../stats/handshake-counters";
import { ALPN_H2_PROTOCOLS, ALPN_PROTOCOLS, type CompiledTls } from "./listener-tls";
import type { SharedTicketKey } from "./ticket-keys";

/** The error an SNICallback reports for a name the listener does not serve (counted as unknownName). */
const UNKNOWN_NAME = "ERR_FULCRUM_UNKNOWN_SNI";
/**
 * OpenSSL resumes a session only under the session-id context it was made
 * in. Node's default is a hash of the process's argv, which differs from agent
 * to agent; a fixed one lets every agent resume every other's tickets. It is
 * HAProxy's own ("HAProxy", SHCTX_APPNAME), so tickets cross engines too.
 */
export const SESSION_ID_CONTEXT = "haproxy";

/**
 * TLS in front of an h1 server: a node:tls server whose decrypted sockets go
 * to the same connection handler as plain ones, so framing, limits, timeouts
 * and statistics are the h1 front end's own. Certificates come from the
 * current CompiledTls, read by the SNI callback at each handshake: update()
 * swaps it (and the no-SNI context) without rebinding, connections already
 * open keep their session, and the session-ticket keys are carried over so
 * clients resume across the swap. With a cluster ticket key (ticket-keys.ts)
 * the server uses it from the start and follows its rotations, so a ticket
 * from any agent of the cluster resumes here.
 */
export class TlsFront {
  readonly server: Server;
  private current: CompiledTls;
  private readonly unsubscribe: () => void;

  constructor(
    settings: CompiledTls,
    private readonly counters: HandshakeCounters,
    handshakeTimeoutMs: number,
    accept: (socket: Socket) => void,
    ticketKey?: SharedTicketKey,
    /** Offer ALPN h2 (the accepted socket's alpnProtocol then says which one the client took). */
    h2 = false,
  ) {
    this.current = settings;
    this.server = createServer(
      {
        ...settings.serverContext,
        ALPNProtocols: h2 ? ALPN_H2_PROTOCOLS : ALPN_PROTOCOLS,
        sessionIdContext: SESSION_ID_CONTEXT,
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
    const key = ticketKey?.current;
    if (key) this.server.setTicketKeys(key);
    this.unsubscribe = ticketKey?.subscribe((k) => this.server.setTicketKeys(k)) ?? (() => {});
    this.server.on("tlsClientError", (e: NodeJS.ErrnoException, socket: TLSSocket) => {
      this.countFailure(e, socket);
      socket.destroy();
    });
  }

  get settings(): CompiledTls {
    return this.current;
  }

  /** Stops following the cluster's ticket key (the listener is closing). */
  detach(): void {
    this.unsubscribe();
  }

  /** New certificates (and versions, HSTS) for handshakes from now on. */
  update(settings: CompiledTls): void {
    if (settings === this.current) return;
    const ticketKeys = this.server.getTicketKeys();
    this.current = settings;
    this.server.setSecureContext({
      ...settings.serverContext,
      ticketKeys,
      sessionIdContext: SESSION_ID_CONTEXT,
    });
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
