import type { IncomingHttpHeaders } from "node:http";
import { type Agent, request } from "node:https";
import { connect, type SecureVersion, type TLSSocket } from "node:tls";

/** What an HTTPS GET saw: the answer and the certificate the listener presented. */
export interface HttpsReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** sha256 hex of the certificate the listener presented. */
  fingerprint: string;
  /** The local port of the client socket: the same for requests over one kept-alive connection. */
  localPort: number;
}

/** One HTTPS GET to 127.0.0.1 with `servername` as SNI and Host; trusts any certificate (tests check fingerprints). */
export function httpsGet(
  port: number,
  servername: string,
  opts: { path?: string; agent?: Agent; maxVersion?: SecureVersion } = {},
): Promise<HttpsReply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: opts.path ?? "/",
        servername,
        headers: { host: servername || "127.0.0.1" },
        rejectUnauthorized: false,
        ...(opts.maxVersion ? { maxVersion: opts.maxVersion } : {}),
        agent: opts.agent ?? false,
      },
      (res) => {
        const socket = res.socket as TLSSocket;
        const cert = socket.getPeerCertificate();
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (body += c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            fingerprint: cert.fingerprint256.replaceAll(":", "").toLowerCase(),
            localPort: socket.localPort ?? 0,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/**
 * A bare handshake to 127.0.0.1 (`servername` undefined: no SNI): resolves
 * with the presented certificate's fingerprint and the negotiated ALPN
 * protocol, rejects when the handshake fails.
 */
export function handshake(
  port: number,
  servername: string | undefined,
  opts: { maxVersion?: SecureVersion; alpn?: string[] } = {},
): Promise<{ fingerprint: string; alpn: string | false }> {
  return new Promise((resolve, reject) => {
    const s = connect({
      host: "127.0.0.1",
      port,
      ...(servername === undefined ? {} : { servername }),
      rejectUnauthorized: false,
      ...(opts.maxVersion ? { maxVersion: opts.maxVersion } : {}),
      ...(opts.alpn ? { ALPNProtocols: opts.alpn } : {}),
    });
    s.once("secureConnect", () => {
      const fingerprint = s.getPeerCertificate().fingerprint256.replaceAll(":", "").toLowerCase();
      const alpn = s.alpnProtocol ?? false;
      // end(), not destroy(): TLS 1.3's client Finished must reach the listener for its handshake to complete.
      s.end();
      s.once("close", () => resolve({ fingerprint, alpn }));
      s.resume();
    });
    s.once("error", (e) => {
      s.destroy();
      reject(e);
    });
  });
}

/**
 * Sends `head` (a request head, CRLF line ends, ending in a blank line) over
 * TLS to 127.0.0.1 and resolves with everything the listener wrote until it
 * closed: the reply exactly as sent, header lines and duplicates included.
 */
export function httpsRaw(port: number, servername: string, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, servername, rejectUnauthorized: false });
    let got = "";
    s.setEncoding("latin1");
    s.on("data", (d: string) => (got += d));
    s.once("secureConnect", () => s.write(head));
    // A reply to a refused head may race our own write: what was read so far is the answer.
    s.once("error", (e) => (got ? resolve(got) : reject(e)));
    s.once("close", () => resolve(got));
  });
}

/** The values of every `name` field (any case) in a raw reply's head. */
export function headerValues(raw: string, name: string): string[] {
  const head = raw.slice(0, raw.indexOf("\r\n\r\n"));
  const lower = `${name.toLowerCase()}:`;
  return head
    .split("\r\n")
    .filter((l) => l.toLowerCase().startsWith(lower))
    .map((l) => l.slice(lower.length).trim());
}

/**
 * A full handshake to 127.0.0.1 that keeps the session the listener gives
 * (its ticket): resolves once the ticket has arrived (after the handshake in
 * TLS 1.3) and the connection is closed.
 */
export function takeTicket(
  port: number,
  servername: string,
  opts: { maxVersion?: SecureVersion } = {},
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect({
      host: "127.0.0.1",
      port,
      servername,
      rejectUnauthorized: false,
      ...(opts.maxVersion ? { maxVersion: opts.maxVersion } : {}),
    });
    let session: Buffer | undefined;
    s.on("session", (sess: Buffer) => {
      session = sess;
      s.end();
    });
    s.once("close", () => (session ? resolve(session) : reject(new Error("no session ticket received"))));
    s.once("error", (e) => {
      s.destroy();
      reject(e);
    });
    s.resume();
  });
}

/** A handshake offering `session`: whether the listener resumed it (no certificate, no full handshake). */
export function resumes(
  port: number,
  servername: string,
  session: Buffer,
  opts: { maxVersion?: SecureVersion } = {},
): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = connect({
      host: "127.0.0.1",
      port,
      servername,
      session,
      rejectUnauthorized: false,
      ...(opts.maxVersion ? { maxVersion: opts.maxVersion } : {}),
    });
    s.once("secureConnect", () => {
      const reused = s.isSessionReused();
      s.end();
      s.once("close", () => resolve(reused));
      s.resume();
    });
    s.once("error", (e) => {
      s.destroy();
      reject(e);
    });
  });
}
