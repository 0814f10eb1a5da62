import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import type { BackendTls } from "@fulcrum/protocol";
import type { TestCertificate } from "./certs";
import { closeServer } from "./net";
import { makeTestCa, type TestCa } from "./test-ca";

/** What the backend saw of one request: the SNI, the client certificate's CN, whether the TLS session was resumed. */
export interface SeenTls {
  sni: string | null;
  clientCn: string | null;
  resumed: boolean;
}

export interface MtlsBackend {
  readonly port: number;
  readonly server: Server;
  /** TLS handshakes completed (a kept-alive connection makes one for many requests). */
  handshakes: number;
  /** Of those, resumed from an earlier session. */
  resumed: number;
  close(): Promise<void>;
}

/**
 * A node:https backend that requires a client certificate signed by
 * `clientCa` (requestCert + rejectUnauthorized) and answers every request
 * with what it saw of the TLS connection, as JSON.
 */
export async function startMtlsBackend(
  serverCert: TestCertificate,
  clientCaPem: string,
): Promise<MtlsBackend> {
  const server = createServer(
    {
      cert: serverCert.material.chainPem,
      key: serverCert.material.keyPem,
      ca: clientCaPem,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const s = req.socket as TLSSocket;
      const seen: SeenTls = {
        sni: (s as TLSSocket & { servername?: string | false }).servername || null,
        clientCn: (s.getPeerCertificate().subject?.CN as string | undefined) ?? null,
        resumed: s.isSessionReused(),
      };
      req.resume();
      req.on("end", () => {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(seen));
      });
    },
  );
  const b: MtlsBackend = {
    port: 0,
    server,
    handshakes: 0,
    resumed: 0,
    close: () => closeServer(server),
  };
  server.on("secureConnection", (s: TLSSocket) => {
    b.handshakes++;
    if (s.isSessionReused()) b.resumed++;
  });
  // Failed handshakes (no client certificate, unknown CA) are expected here; keep them out of the test's output.
  server.on("tlsClientError", () => {});
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  (b as { port: number }).port = (server.address() as AddressInfo).port;
  return b;
}

/**
 * Pool TLS the fixture's backend accepts in full: verified against serverCa
 * (as bundle "backend-ca"), fixed SNI, clientCert (as certificate "client").
 */
export const FULL_MTLS = {
  verify: "ca",
  caBundleId: "backend-ca",
  sni: "fixed",
  sniName: "backend.internal",
  clientCertificateId: "client",
} as const satisfies Partial<BackendTls>;

/** The CAs and certificates the TLS-to-backends tests share, and the mTLS backend they talk to. */
export interface MtlsFixture {
  /** Signs the backend's certificate (backend.internal, IP 127.0.0.1): the bundle that verifies it. */
  serverCa: TestCa;
  /** Signs the client certificates the backend accepts. */
  clientCa: TestCa;
  /** Trusted by nobody here: the wrong bundle. */
  otherCa: TestCa;
  /** CN fulcrum-agent, signed by clientCa. */
  clientCert: TestCertificate;
  /** A client certificate from otherCa, which the backend refuses. */
  strangerCert: TestCertificate;
  mtls: MtlsBackend;
  close(): Promise<void>;
}

export async function startMtlsFixture(): Promise<MtlsFixture> {
  const serverCa = makeTestCa("Backend CA");
  const clientCa = makeTestCa("Client CA");
  const otherCa = makeTestCa("Unrelated CA");
  const serverCert = serverCa.sign(
    "srv",
    "backend.internal",
    ["DNS:backend.internal", "IP:127.0.0.1"],
    "serverAuth",
  );
  const clientCert = clientCa.sign("client", "fulcrum-agent", ["DNS:agent.internal"], "clientAuth");
  const strangerCert = otherCa.sign("stranger", "stranger", ["DNS:stranger.internal"], "clientAuth");
  const mtls = await startMtlsBackend(serverCert, clientCa.pem);
  return {
    serverCa,
    clientCa,
    otherCa,
    clientCert,
    strangerCert,
    mtls,
    async close() {
      await mtls.close();
      for (const ca of [serverCa, clientCa, otherCa]) ca.dispose();
    },
  };
}
