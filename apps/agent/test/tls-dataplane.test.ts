import { createServer, type Server } from "node:http";
import { Agent } from "node:https";
import type { AddressInfo } from "node:net";
import { connect, type SecureVersion } from "node:tls";
import { type Snapshot, type SnapshotListener, snapshotSchema, type TlsMaterial } from "@fulcrum/protocol";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { NodeEngine } from "../src/engines/builtin/node-engine";
import { createLogger } from "../src/log";
import { AppliedSnapshots } from "../src/metrics/applied-snapshots";
import { BackendStatusTracker } from "../src/metrics/backend-status";
import { renderPrometheus } from "../src/metrics/prometheus";
import { StatsSampler } from "../src/metrics/sampler";
import { until } from "./helpers/backends";
import { makeCertificate, type TestCertificate } from "./helpers/certs";
import { freePort, get } from "./helpers/net";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";
import { headerValues, httpsGet, httpsRaw, handshake as tlsHandshake } from "./helpers/tls-client";

/*
 * TLS termination in the builtin engine (issue 16), through real sockets:
 * node:tls clients against the engine's listeners, certificates made by the
 * openssl CLI, a real backend that echoes what it received.
 */

/** A backend answering with the request's headers as JSON (what the proxy forwarded). */
async function startEchoBackend(): Promise<{ port: number; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      // A backend with HSTS of its own: the listener's must replace it, not come second.
      if (req.url === "/own-hsts") res.setHeader("strict-transport-security", "max-age=5");
      res.end(JSON.stringify(req.headers));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as AddressInfo).port, server };
}

/** The presented certificate's fingerprint of a bare handshake; rejects when the handshake fails. */
const handshake = (port: number, servername: string | undefined, maxVersion?: SecureVersion) =>
  tlsHandshake(port, servername, maxVersion ? { maxVersion } : {}).then((r) => r.fingerprint);

let echo: { port: number; server: Server };
let exact: TestCertificate;
let wild: TestCertificate;
let fallback: TestCertificate;
beforeAll(async () => {
  echo = await startEchoBackend();
  exact = makeCertificate("exact", ["www.example.com", "example.com"]);
  wild = makeCertificate("wild", ["*.example.com"]);
  fallback = makeCertificate("fallback", ["default.test"]);
});
afterAll(() => echo.server.close());

/** A snapshot whose one http listener on `port` terminates TLS with `certs` (the first is the default). */
function tlsSnapshot(
  version: number,
  port: number,
  certs: readonly TestCertificate[],
  tls: Record<string, unknown> = {},
  listener: Partial<SnapshotListener> = {},
  extraPools: Parameters<typeof makeSnapshot>[4] = [],
): Snapshot {
  const base = makeSnapshot(
    version,
    [httpListener(port, listener)],
    [backend("a", echo.port)],
    "round_robin",
    extraPools,
  );
  const s = structuredClone(base) as unknown as Record<string, unknown> & {
    listeners: Record<string, unknown>[];
  };
  s.certificates = certs.map((c) => c.ref);
  s.listeners[0]!.tls = {
    certificateIds: certs.map((c) => c.ref.id),
    defaultCertificateId: certs[0]!.ref.id,
    ...tls,
  };
  return snapshotSchema.parse(s);
}

const materialOf = (certs: readonly TestCertificate[]): TlsMaterial[] => certs.map((c) => c.material);

describe("TLS listeners in the builtin engine", () => {
  let engine: NodeEngine;
  let port: number;
  beforeEach(async () => {
    engine = new NodeEngine({ log: createLogger("error"), timeouts: { drainGraceMs: 200 } });
    port = await freePort();
  });
  afterEach(() => engine.stop());

  /** The listener's handshake counters once `done` handshakes have ended either way (the listener may count after the client). */
  const handshakeStats = async (done: number) => {
    const read = () => engine.stats().listeners[`l-${port}`]?.tls;
    const ended = () => {
      const t = read();
      return t ? t.handshakes + Object.values(t.failures).reduce((a, b) => a + b, 0) : 0;
    };
    await until(() => ended() >= done, 5000);
    return read();
  };

  it("SNI picks the exact name, then a one-label wildcard, then the default certificate", async () => {
    const certs = [fallback, exact, wild];
    await engine.apply(tlsSnapshot(1, port, certs), materialOf(certs));
    expect(await handshake(port, "www.example.com")).toBe(exact.ref.fingerprint);
    expect(await handshake(port, "EXAMPLE.com")).toBe(exact.ref.fingerprint);
    expect(await handshake(port, "api.example.com")).toBe(wild.ref.fingerprint);
    // A wildcard covers one label only.
    expect(await handshake(port, "a.b.example.com")).toBe(fallback.ref.fingerprint);
    expect(await handshake(port, "other.test")).toBe(fallback.ref.fingerprint);
    // No SNI at all (a client connecting by address): the default certificate.
    expect(await handshake(port, undefined)).toBe(fallback.ref.fingerprint);
    expect(await handshakeStats(6)).toMatchObject({ handshakes: 6, failures: { unknownName: 0 } });
  });

  it("unknownName reject: a name no certificate covers (or no SNI) fails the handshake and is counted", async () => {
    const certs = [fallback, exact];
    await engine.apply(tlsSnapshot(1, port, certs, { unknownName: "reject" }), materialOf(certs));
    expect(await handshake(port, "www.example.com")).toBe(exact.ref.fingerprint);
    await expect(handshake(port, "other.test")).rejects.toThrow();
    await expect(handshake(port, undefined)).rejects.toThrow();
    expect(await handshakeStats(3)).toMatchObject({ handshakes: 1, failures: { unknownName: 2, other: 0 } });
    const text = renderPrometheus({
      stats: engine.stats(),
      snapshot: undefined,
      status: new BackendStatusTracker(),
      agent: { name: "a", version: "0" },
    });
    expect(text).toContain(`fulcrum_tls_handshakes_total{listener="http-${port}",resumed="false"} 1`);
    expect(text).toContain(
      `fulcrum_tls_handshake_failures_total{listener="http-${port}",reason="unknown_name"} 2`,
    );
    // The stats point sent to the console carries the same as deltas: all of it once, then what is new.
    const sampler = new StatsSampler({
      engine,
      snapshots: new AppliedSnapshots(),
      status: new BackendStatusTracker(),
      keyframeEvery: 1000,
    });
    expect(sampler.sample()!.listeners[`l-${port}`]?.tls).toEqual({
      handshakes: 1,
      resumed: 0,
      failedNoSharedCipher: 0,
      failedProtocolVersion: 0,
      failedUnknownName: 2,
      failedOther: 0,
    });
    await expect(handshake(port, "other.test")).rejects.toThrow();
    await handshakeStats(4);
    expect(sampler.sample()!.listeners[`l-${port}`]?.tls).toMatchObject({
      handshakes: 0,
      failedUnknownName: 1,
    });
  });

  it("minVersion TLSv1.3 refuses a TLS 1.2 client; the default minimum accepts it", async () => {
    await engine.apply(tlsSnapshot(1, port, [exact], { minVersion: "TLSv1.3" }), materialOf([exact]));
    await expect(handshake(port, "example.com", "TLSv1.2")).rejects.toThrow();
    expect(await handshake(port, "example.com", "TLSv1.3")).toBe(exact.ref.fingerprint);
    expect(await handshakeStats(2)).toMatchObject({ handshakes: 1, failures: { protocolVersion: 1 } });
    // Back to the default (TLS 1.2) without a rebind.
    const bind = engine.listenerAt("127.0.0.1", port)?.bindId;
    await engine.apply(tlsSnapshot(2, port, [exact]), materialOf([exact]));
    expect(await handshake(port, "example.com", "TLSv1.2")).toBe(exact.ref.fingerprint);
    expect(engine.listenerAt("127.0.0.1", port)?.bindId).toBe(bind);
  });

  it("the backend sees X-Forwarded-Proto: https; HSTS is sent when the listener asks for it", async () => {
    await engine.apply(tlsSnapshot(1, port, [exact]), materialOf([exact]));
    const plain = await httpsGet(port, "example.com");
    expect(plain.status).toBe(200);
    expect(JSON.parse(plain.body)["x-forwarded-proto"]).toBe("https");
    expect(plain.headers["strict-transport-security"]).toBeUndefined();
    expect(plain.headers.alpn).toBeUndefined();

    const hsts = { maxAgeSeconds: 31_536_000, includeSubDomains: true, preload: false };
    await engine.apply(tlsSnapshot(2, port, [exact], { hsts }), materialOf([exact]));
    const r = await httpsGet(port, "example.com");
    expect(r.headers["strict-transport-security"]).toBe("max-age=31536000; includeSubDomains");
    expect(JSON.parse(r.body)["x-forwarded-proto"]).toBe("https");
  });

  it("HSTS goes on the proxy's own replies too, and replaces a backend's own", async () => {
    const hsts = { maxAgeSeconds: 600, includeSubDomains: false, preload: false };
    const routes = [
      { id: "r-web", host: "example.com", pathPrefix: "/", priority: 0, poolId: "p1", action: "proxy" },
      { id: "r-down", host: "down.example.com", pathPrefix: "/", priority: 0, poolId: "p2", action: "proxy" },
    ] as const;
    const down = [{ id: "p2", backends: [backend("dead", await freePort())] }];
    await engine.apply(
      tlsSnapshot(1, port, [exact], { hsts }, { routes: [...routes] }, down),
      materialOf([exact]),
    );
    const ask = (host: string, path = "/", extra = "") =>
      httpsRaw(port, host, `GET ${path} HTTP/1.1\r\nhost: ${host}\r\n${extra}connection: close\r\n\r\n`);
    const cases: [string, Promise<string>][] = [
      ["200 ", ask("example.com")],
      ["200 ", ask("example.com", "/own-hsts")],
      ["404 ", ask("www.example.com")],
      ["502 ", ask("down.example.com")],
      ["431 ", ask("example.com", "/", `x-big: ${"a".repeat(70_000)}\r\n`)],
      ["400 ", httpsRaw(port, "example.com", "GET / HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n")],
    ];
    for (const [status, reply] of cases) {
      const raw = await reply;
      expect(raw.slice(9, 13), raw.slice(0, 200)).toBe(status);
      expect(headerValues(raw, "strict-transport-security"), `${status}: ${raw.slice(0, 300)}`).toEqual([
        "max-age=600",
      ]);
    }
  });

  it("resumes sessions from tickets, counted as resumed, also across a certificate change (ticket keys kept)", async () => {
    /** A handshake offering `session`; resolves with whether it was resumed and the ticket it got. */
    const resume = (session: Buffer | undefined) =>
      new Promise<{ reused: boolean; ticket: Buffer }>((resolve, reject) => {
        const s = connect({
          host: "127.0.0.1",
          port,
          servername: "example.com",
          rejectUnauthorized: false,
          ...(session ? { session } : {}),
        });
        let ticket: Buffer | undefined;
        s.on("session", (t: Buffer) => (ticket ??= t));
        s.once("secureConnect", () => {
          const reused = s.isSessionReused();
          // TLS 1.3 tickets arrive after the handshake: a first connection reads until one is here.
          const done = () => {
            s.end();
            resolve({ reused, ticket: ticket! });
          };
          if (ticket || session) done();
          else s.once("session", done);
        });
        s.once("error", reject);
        s.resume();
      });
    const site = makeCertificate("site", ["example.com"]);
    const rotated = makeCertificate("site", ["example.com"]);
    await engine.apply(tlsSnapshot(1, port, [site]), [site.material]);
    const first = await resume(undefined);
    expect(first.reused).toBe(false);
    expect((await resume(first.ticket)).reused).toBe(true);
    await engine.apply(tlsSnapshot(2, port, [rotated]), [rotated.material]);
    expect((await resume(first.ticket)).reused).toBe(true);
    expect(await handshakeStats(3)).toMatchObject({ handshakes: 3, resumed: 2 });
  });

  it("offers ALPN http/1.1 only", async () => {
    await engine.apply(tlsSnapshot(1, port, [exact]), materialOf([exact]));
    const alpn = await new Promise<string | false>((resolve, reject) => {
      const s = connect({
        host: "127.0.0.1",
        port,
        servername: "example.com",
        rejectUnauthorized: false,
        ALPNProtocols: ["h2", "http/1.1"],
      });
      s.once("secureConnect", () => {
        resolve(s.alpnProtocol ?? false);
        s.end();
        s.resume();
      });
      s.once("error", reject);
    });
    expect(alpn).toBe("http/1.1");
  });

  it("rotation under load: zero failed requests, new handshakes see the new certificate, no rebind", async () => {
    const before = makeCertificate("site", ["example.com"]);
    const after = makeCertificate("site", ["example.com"]);
    expect(after.ref.fingerprint).not.toBe(before.ref.fingerprint);
    await engine.apply(tlsSnapshot(1, port, [before]), [before.material]);
    const bind = engine.listenerAt("127.0.0.1", port)?.bindId;

    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    let failures = 0;
    let ok = 0;
    let running = true;
    const keptPorts = new Set<number>();
    const keptFingerprints = new Set<string>();
    const keepAliveLoop = (async () => {
      while (running) {
        const r = await httpsGet(port, "example.com", { agent: keepAlive }).catch(() => undefined);
        if (r?.status === 200) {
          ok++;
          keptPorts.add(r.localPort);
          keptFingerprints.add(r.fingerprint);
        } else failures++;
      }
    })();
    const newConnFingerprints: string[] = [];
    const newConnLoop = (async () => {
      while (running) {
        const r = await httpsGet(port, "example.com").catch(() => undefined);
        if (r?.status === 200) {
          ok++;
          newConnFingerprints.push(r.fingerprint);
        } else failures++;
      }
    })();
    // Requests on both loops before and after the swap.
    const until = async (n: number) => {
      while (ok < n) await new Promise((r) => setTimeout(r, 5));
    };
    await until(20);
    await engine.apply(tlsSnapshot(2, port, [after]), [after.material]);
    const swappedAt = newConnFingerprints.length;
    await until(ok + 40);
    running = false;
    await Promise.all([keepAliveLoop, newConnLoop]);
    keepAlive.destroy();

    expect(failures).toBe(0);
    expect(engine.listenerAt("127.0.0.1", port)?.bindId).toBe(bind);
    // The kept-alive connection kept its session (one connection, the old certificate) ...
    expect(keptPorts.size).toBe(1);
    expect([...keptFingerprints]).toEqual([before.ref.fingerprint]);
    // ... while every handshake after the swap got the new one.
    const later = newConnFingerprints.slice(swappedAt + 1);
    expect(later.length).toBeGreaterThan(0);
    expect(new Set(later)).toEqual(new Set([after.ref.fingerprint]));
  });

  it("NACKs a snapshot whose certificate has no material, material for another fingerprint, a key of another certificate or garbage", async () => {
    await engine.apply(tlsSnapshot(1, port, [exact]), materialOf([exact]));
    const next = tlsSnapshot(2, port, [exact]);
    await expect(engine.apply(next, [])).rejects.toMatchObject({
      code: "snapshot_invalid",
      message: `listener http-${port}: no key material for certificate exact`,
    });
    await expect(engine.apply(next, [{ ...wild.material, id: "exact" }])).rejects.toMatchObject({
      code: "snapshot_invalid",
      message: expect.stringContaining("certificate exact: the chain's leaf has fingerprint"),
    });
    await expect(
      engine.apply(next, [{ ...exact.material, keyPem: wild.material.keyPem }]),
    ).rejects.toMatchObject({
      code: "snapshot_invalid",
      message: "certificate exact: the private key does not belong to the certificate",
    });
    const garbage = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    await expect(engine.apply(next, [{ ...exact.material, keyPem: garbage }])).rejects.toMatchObject({
      code: "snapshot_invalid",
      message: expect.stringContaining("certificate exact: the private key cannot be read"),
    });
    await expect(
      engine.apply(next, [
        { ...exact.material, chainPem: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" },
      ]),
    ).rejects.toMatchObject({
      code: "snapshot_invalid",
      message: expect.stringContaining("certificate exact: the chain's first certificate cannot be read"),
    });
    // Still serving version 1 with its certificate.
    expect(engine.applied?.version).toBe(1);
    expect((await httpsGet(port, "example.com")).fingerprint).toBe(exact.ref.fingerprint);
  });

  it("NACKs RSA and ECDSA certificates mixed on a listener with a default certificate; serves them with unknownName reject", async () => {
    const rsa = makeCertificate("rsa", ["rsa.test"], 2, "rsa");
    await engine.apply(tlsSnapshot(1, port, [exact]), materialOf([exact]));
    await expect(
      engine.apply(tlsSnapshot(2, port, [exact, rsa]), materialOf([exact, rsa])),
    ).rejects.toMatchObject({
      code: "snapshot_invalid",
      message: expect.stringContaining(
        "certificate rsa has a rsa key and the default certificate exact a ec key",
      ),
    });
    expect(engine.applied?.version).toBe(1);
    // Without a certificate of the listener's own, the SNI choice is the only one: RSA is served for its name.
    await engine.apply(
      tlsSnapshot(3, port, [exact, rsa], { unknownName: "reject" }),
      materialOf([exact, rsa]),
    );
    expect(await handshake(port, "rsa.test")).toBe(rsa.ref.fingerprint);
    expect(await handshake(port, "example.com")).toBe(exact.ref.fingerprint);
  });

  it("switching a listener between plain HTTP and TLS re-creates it", async () => {
    const plain = makeSnapshot(1, [httpListener(port)], [backend("a", echo.port)]);
    await engine.apply(plain);
    expect(JSON.parse((await get(port)).body)["x-forwarded-proto"]).toBe("http");
    await engine.apply(tlsSnapshot(2, port, [exact]), materialOf([exact]));
    expect((await httpsGet(port, "example.com")).status).toBe(200);
  });
});

describe("redirectToHttps on a plain http listener", () => {
  let engine: NodeEngine;
  let port: number;
  beforeEach(async () => {
    engine = new NodeEngine({ log: createLogger("error"), timeouts: { drainGraceMs: 200 } });
    port = await freePort();
  });
  afterEach(() => engine.stop());

  const redirecting = (status: 301 | 308, to: number) =>
    makeSnapshot(
      1,
      [httpListener(port, { settings: { redirectToHttps: { status, port: to } } })],
      [backend("a", echo.port)],
    );

  it("answers every request with a redirect keeping host, path and query", async () => {
    await engine.apply(redirecting(308, 8443));
    const r = await get(port, "/a/b?x=1&y=2", { host: "Shop.Example.com:80" });
    expect(r.status).toBe(308);
    expect(r.headers.location).toBe("https://shop.example.com:8443/a/b?x=1&y=2");
  });

  it("leaves port 443 out of the location and brackets IPv6 literals", async () => {
    await engine.apply(redirecting(301, 443));
    expect((await get(port, "/", { host: "example.com" })).headers.location).toBe("https://example.com/");
    const v6 = await get(port, "/x", { host: "[::1]:8080" });
    expect(v6.status).toBe(301);
    expect(v6.headers.location).toBe("https://[::1]/x");
  });

  it("refuses a Host that is not a host name (never written into a Location)", async () => {
    await engine.apply(redirecting(308, 443));
    const r = await get(port, "/", { host: "evil_host" });
    expect(r.status).toBe(400);
    expect(r.headers.location).toBeUndefined();
  });
});
