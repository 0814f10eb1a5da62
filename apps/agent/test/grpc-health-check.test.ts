import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createH2Server, type Http2Server } from "node:http2";
import { createServer as createNetServer, type Server as NetServer } from "node:net";
import { createSecureContext } from "node:tls";
import { backendTlsSchema, type HealthEvent, snapshotSchema } from "@fulcrum/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
} from "../src/dataplane/health/grpc-health-codec";
import { probeGrpc } from "../src/dataplane/health/grpc-probe";
import { TlsOrigin } from "../src/dataplane/pools/backend-tls";
import { NodeEngine } from "../src/engines/builtin/node-engine";
import { silentLogger } from "../src/log";
import { until } from "./helpers/backends";
import { type GrpcHealthServer, startGrpcHealthServer } from "./helpers/grpc-health-server";
import { freePort } from "./helpers/net";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";
import { makeTestCa, type TestCa } from "./helpers/test-ca";

/*
 * The builtin gRPC health check (issue 18): grpc.health.v1.Health/Check,
 * hand-encoded, against a real grpc-js server with the standard health
 * service loaded from its .proto, over h2c and over TLS (ALPN h2).
 */

const target = (port: number, over: Partial<Parameters<typeof probeGrpc>[0]> = {}) => ({
  address: "127.0.0.1",
  port,
  key: `127.0.0.1:${port}`,
  tls: undefined,
  service: "",
  timeoutMs: 2000,
  ...over,
});

let plain: GrpcHealthServer;
let secure: GrpcHealthServer;
let ca: TestCa;
let otherCa: TestCa;
beforeAll(async () => {
  ca = makeTestCa("grpc-test-ca");
  otherCa = makeTestCa("grpc-other-ca");
  const leaf = ca.sign("grpc-backend", "grpc-backend", ["IP:127.0.0.1", "DNS:grpc.internal"], "serverAuth");
  plain = await startGrpcHealthServer();
  secure = await startGrpcHealthServer({
    tls: { certPem: leaf.material.chainPem, keyPem: leaf.material.keyPem },
  });
});
afterAll(async () => {
  await plain.close();
  await secure.close();
  ca.dispose();
  otherCa.dispose();
});
afterEach(() => {
  plain.statuses.clear();
  plain.statuses.set("", "SERVING");
});

describe("HealthCheckRequest / HealthCheckResponse by hand", () => {
  it("frames the request as protobuf field 1 (string)", () => {
    expect(encodeHealthCheckRequest("").toString("hex")).toBe("0000000000");
    expect(encodeHealthCheckRequest("ab").toString("hex")).toBe("00000000040a026162");
    // A 200-byte name needs a two-byte length varint.
    expect(encodeHealthCheckRequest("x".repeat(200)).subarray(0, 8).toString("hex")).toBe("00000000cb0ac801");
  });

  it("reads the status, skips unknown fields, refuses what is cut, compressed or too long", () => {
    const frame = (hex: string) => {
      const msg = Buffer.from(hex, "hex");
      const head = Buffer.alloc(5);
      head.writeUInt32BE(msg.length, 1);
      return Buffer.concat([head, msg]);
    };
    expect(decodeHealthCheckResponse(frame("0801"))).toBe(1);
    expect(decodeHealthCheckResponse(frame(""))).toBe(0);
    expect(decodeHealthCheckResponse(frame("1203616263" + "0802"))).toBe(2);
    expect(() => decodeHealthCheckResponse(frame("08"))).toThrow(/cut inside a varint/);
    expect(() => decodeHealthCheckResponse(frame("1205ab"))).toThrow(/cut inside a field/);
    expect(() => decodeHealthCheckResponse(frame("0f"))).toThrow(/wire type 7/);
    expect(() => decodeHealthCheckResponse(frame(`08${"ff".repeat(11)}`))).toThrow(/longer than 10/);
    expect(() => decodeHealthCheckResponse(Buffer.from("0100000002" + "0801", "hex"))).toThrow(/compressed/);
    expect(() => decodeHealthCheckResponse(Buffer.from("0000000009" + "0801", "hex"))).toThrow(
      /says 9 bytes/,
    );
    expect(() => decodeHealthCheckResponse(Buffer.from("0000", "hex"))).toThrow(/less than a gRPC frame/);
  });
});

describe("gRPC health probe against a real grpc-js server", () => {
  it("is healthy only when the server (or the named service) is SERVING", async () => {
    expect(await probeGrpc(target(plain.port))).toBeUndefined();
    plain.statuses.set("helloworld.Greeter", "SERVING");
    expect(await probeGrpc(target(plain.port, { service: "helloworld.Greeter" }))).toBeUndefined();
    expect(plain.asked.slice(-2)).toEqual(["", "helloworld.Greeter"]);

    plain.statuses.set("helloworld.Greeter", "NOT_SERVING");
    expect(await probeGrpc(target(plain.port, { service: "helloworld.Greeter" }))).toBe(
      "grpc check: service helloworld.Greeter is NOT_SERVING, not SERVING",
    );
    plain.statuses.set("", "UNKNOWN");
    expect(await probeGrpc(target(plain.port))).toBe("grpc check: the server is UNKNOWN, not SERVING");
  });

  it("names the grpc-status of an error answer", async () => {
    expect(await probeGrpc(target(plain.port, { service: "no.Such" }))).toBe(
      "grpc check answered grpc-status 5 (NOT_FOUND): unknown service",
    );
  });

  it("fails clearly against a closed port, an HTTP/1.1 server, a silent server", async () => {
    const closed = await freePort();
    expect(await probeGrpc(target(closed))).toMatch(/^grpc check failed: .*ECONNREFUSED/);

    const h1: Server = createHttpServer((_q, s) => s.end("ok"));
    await new Promise<void>((r) => h1.listen(0, "127.0.0.1", r));
    const h1Port = (h1.address() as { port: number }).port;
    expect(await probeGrpc(target(h1Port))).toMatch(/^grpc check failed/);
    h1.close();

    const silent: NetServer = createNetServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const silentPort = (silent.address() as { port: number }).port;
    expect(await probeGrpc(target(silentPort, { timeoutMs: 300 }))).toBe("grpc check timed out after 300 ms");
    silent.close();
  });

  it("refuses a plain HTTP/2 answer that is not gRPC, and a gRPC answer without a status", async () => {
    let mode: "html" | "no-status" = "html";
    const h2: Http2Server = createH2Server((_q, s) => {
      if (mode === "html") {
        s.writeHead(200, { "content-type": "text/html" });
        return s.end("<p>hi</p>");
      }
      s.writeHead(200, { "content-type": "application/grpc" });
      s.end(Buffer.from("00000000020801", "hex"));
    });
    await new Promise<void>((r) => h2.listen(0, "127.0.0.1", r));
    const port = (h2.address() as { port: number }).port;
    expect(await probeGrpc(target(port))).toBe("grpc check answered content-type text/html");
    mode = "no-status";
    expect(await probeGrpc(target(port))).toBe("grpc check answered without a grpc-status");
    h2.close();
  });

  it("speaks HTTP/2 over TLS (ALPN h2) with the pool's verification when the pool has TLS", async () => {
    const origin = (c: TestCa) =>
      new TlsOrigin(
        `tls-${c.pem.length}`,
        backendTlsSchema.parse({ verify: "ca", caBundleId: "ca" }),
        createSecureContext({ ca: c.pem }),
      );
    expect(await probeGrpc(target(secure.port, { tls: origin(ca) }))).toBeUndefined();
    expect(await probeGrpc(target(secure.port, { tls: origin(otherCa) }))).toMatch(
      /^grpc check failed: certificate verify failed/,
    );
    // h2c against the TLS port, TLS against the plain port: both fail, neither hangs.
    expect(await probeGrpc(target(secure.port))).toMatch(/^grpc check (failed|timed out)/);
    expect(await probeGrpc(target(plain.port, { tls: origin(ca) }))).toMatch(/^grpc check failed/);
  });
});

describe("gRPC health checks in the builtin engine", () => {
  let engine: NodeEngine;
  afterEach(() => engine?.stop());

  it("marks a backend down when its service stops SERVING and up when it serves again", async () => {
    engine = new NodeEngine({ log: silentLogger, timeouts: { drainGraceMs: 200 } });
    const events: HealthEvent[] = [];
    engine.onHealthEvent((e) => events.push(e));
    plain.statuses.set("svc.A", "SERVING");
    const snap = makeSnapshot(
      1,
      [httpListener(await freePort())],
      [backend("b1", plain.port)],
      "round_robin",
      [],
      {
        healthCheck: {
          type: "grpc",
          grpcService: "svc.A",
          intervalMs: 100,
          timeoutMs: 1000,
          rise: 1,
          fall: 1,
        },
      },
    );
    await engine.apply(snapshotSchema.parse(snap));
    expect(await until(() => plain.asked.includes("svc.A"), 5000)).toBe(true);
    plain.statuses.set("svc.A", "NOT_SERVING");
    expect(await until(() => events.some((e) => e.state === "down"), 5000)).toBe(true);
    expect(events.find((e) => e.state === "down")?.reason).toBe(
      "grpc check: service svc.A is NOT_SERVING, not SERVING",
    );
    plain.statuses.set("svc.A", "SERVING");
    expect(await until(() => events.some((e) => e.state === "up"), 5000)).toBe(true);
  });
});
