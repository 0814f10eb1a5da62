import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { Agent } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Snapshot, snapshotSchema } from "@fulcrum/protocol";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { NodeEngine } from "../../src/engines/builtin/node-engine";
import { HaproxyEngine } from "../../src/engines/haproxy/haproxy-engine";
import { parseShowProc, runtimeCommand } from "../../src/engines/haproxy/runtime-api";
import { silentLogger } from "../../src/log";
import { makeCertificate, type TestCertificate } from "../helpers/certs";
import { freePort, get } from "../helpers/net";
import { handshake, headerValues, httpsGet, httpsRaw } from "../helpers/tls-client";
import { BIN, be, http, pool, snap } from "./fixtures";

/*
 * TLS on the HAProxy engine (issue 16) through a real HAProxy: the same
 * snapshot and certificates on the builtin engine and on HAProxy, node:tls
 * clients comparing which certificate each presents; a rotation under load;
 * the redirect to HTTPS.
 */

/** A backend answering with the request's headers as JSON (what the proxy forwarded). */
let echo: { port: number; server: Server };
let exact: TestCertificate;
let wild: TestCertificate;
let fallback: TestCertificate;
beforeAll(async () => {
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
  echo = { port: (server.address() as AddressInfo).port, server };
  exact = makeCertificate("exact", ["www.example.com", "example.com"]);
  wild = makeCertificate("wild", ["*.example.com"]);
  fallback = makeCertificate("fallback", ["default.test"]);
});
afterAll(() => echo.server.close());

/** One http listener on `port` terminating TLS with `certs` (the first is the default), routing to the echo backend. */
function tlsSnapshot(
  version: number,
  port: number,
  certs: readonly TestCertificate[],
  tls: Record<string, unknown> = {},
  listener: Parameters<typeof http>[3] = {},
  extraPools: Parameters<typeof snap>[2] = [],
): Snapshot {
  const base = snap(
    version,
    [http("web", port, "p1", listener)],
    [pool("p1", [be("a", echo.port)]), ...extraPools],
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

const materialOf = (certs: readonly TestCertificate[]) => certs.map((c) => c.material);

let dir: string;
let haproxy: HaproxyEngine;
let port: number;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "haproxy-tls-"));
  haproxy = new HaproxyEngine({ log: silentLogger, stateDir: dir, bin: BIN, statsIntervalMs: 200 });
  port = await freePort();
});
afterEach(async () => {
  await haproxy.stop();
  await rm(dir, { recursive: true, force: true });
});

async function reloads(): Promise<number> {
  const p = parseShowProc(await runtimeCommand(haproxy.files.masterSocket, "show proc"));
  if (!p) throw new Error("no show proc answer");
  return p.reloads;
}

describe("TLS listeners on HAProxy", () => {
  it("presents the same certificate as the builtin engine: exact name, wildcard, default, reject", async () => {
    const builtin = new NodeEngine({ log: silentLogger, timeouts: { drainGraceMs: 200 } });
    const builtinPort = await freePort();
    try {
      const certs = [fallback, exact, wild];
      await haproxy.apply(tlsSnapshot(1, port, certs), materialOf(certs));
      await builtin.apply(tlsSnapshot(1, builtinPort, certs), materialOf(certs));
      const cases: [string | undefined, TestCertificate][] = [
        ["www.example.com", exact],
        ["EXAMPLE.com", exact],
        ["api.example.com", wild],
        ["a.b.example.com", fallback], // a wildcard covers one label only
        ["other.test", fallback],
        [undefined, fallback], // no SNI: the default certificate
      ];
      for (const [name, want] of cases) {
        expect((await handshake(port, name)).fingerprint, `haproxy, SNI ${name}`).toBe(want.ref.fingerprint);
        expect((await handshake(builtinPort, name)).fingerprint, `builtin, SNI ${name}`).toBe(
          want.ref.fingerprint,
        );
      }

      // The default certificate need not be the first, and a name two certificates carry goes to
      // the first of the listener's list, even when the other one is the default.
      const shared = makeCertificate("shared", ["default.test", "www.example.com"]);
      const last = [exact, wild, shared];
      const lastDefault = { defaultCertificateId: shared.ref.id };
      await haproxy.apply(tlsSnapshot(2, port, last, lastDefault), materialOf(last));
      await builtin.apply(tlsSnapshot(2, builtinPort, last, lastDefault), materialOf(last));
      for (const p of [port, builtinPort]) {
        expect((await handshake(p, "other.test")).fingerprint).toBe(shared.ref.fingerprint);
        expect((await handshake(p, "default.test")).fingerprint).toBe(shared.ref.fingerprint);
        expect((await handshake(p, "www.example.com")).fingerprint).toBe(exact.ref.fingerprint);
        expect((await handshake(p, "api.example.com")).fingerprint).toBe(wild.ref.fingerprint);
      }

      // unknownName reject: no match and no SNI fail the handshake on both engines.
      const reject = [fallback, exact];
      await haproxy.apply(tlsSnapshot(3, port, reject, { unknownName: "reject" }), materialOf(reject));
      await builtin.apply(tlsSnapshot(3, builtinPort, reject, { unknownName: "reject" }), materialOf(reject));
      for (const p of [port, builtinPort]) {
        expect((await handshake(p, "www.example.com")).fingerprint).toBe(exact.ref.fingerprint);
        await expect(handshake(p, "other.test")).rejects.toThrow();
        await expect(handshake(p, undefined)).rejects.toThrow();
      }
    } finally {
      await builtin.stop();
    }
  });

  it("offers ALPN http/1.1, honours minVersion, forwards X-Forwarded-Proto https and sends HSTS", async () => {
    await haproxy.apply(tlsSnapshot(1, port, [exact], { minVersion: "TLSv1.3" }), materialOf([exact]));
    expect((await handshake(port, "example.com", { alpn: ["h2", "http/1.1"] })).alpn).toBe("http/1.1");
    await expect(handshake(port, "example.com", { maxVersion: "TLSv1.2" })).rejects.toThrow();
    const plain = await httpsGet(port, "example.com");
    expect(plain.status).toBe(200);
    expect(JSON.parse(plain.body)["x-forwarded-proto"]).toBe("https");
    expect(plain.headers["strict-transport-security"]).toBeUndefined();

    const hsts = { maxAgeSeconds: 31_536_000, includeSubDomains: true, preload: false };
    await haproxy.apply(tlsSnapshot(2, port, [exact], { hsts }), materialOf([exact]));
    expect((await handshake(port, "example.com", { maxVersion: "TLSv1.2" })).fingerprint).toBe(
      exact.ref.fingerprint,
    );
    const r = await httpsGet(port, "example.com");
    expect(r.headers["strict-transport-security"]).toBe("max-age=31536000; includeSubDomains");
  });

  it("HSTS goes on HAProxy's own replies too, and replaces a backend's own", async () => {
    const hsts = { maxAgeSeconds: 600, includeSubDomains: false, preload: false };
    const routes = [
      { id: "r-web", host: "example.com", pathPrefix: "/", priority: 0, poolId: "p1" },
      { id: "r-down", host: "down.example.com", pathPrefix: "/", priority: 0, poolId: "p2" },
    ];
    const down = [pool("p2", [be("dead", await freePort())])];
    await haproxy.apply(tlsSnapshot(1, port, [exact], { hsts }, { routes }, down), materialOf([exact]));
    const ask = (host: string, path = "/") =>
      httpsRaw(port, host, `GET ${path} HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`);
    const cases: [RegExp, string][] = [
      [/^200 /, await ask("example.com")],
      [/^200 /, await ask("example.com", "/own-hsts")],
      [/^404 /, await ask("www.example.com")],
      [/^50[23] /, await ask("down.example.com")],
    ];
    for (const [status, raw] of cases) {
      expect(raw.slice(9, 13), raw.slice(0, 200)).toMatch(status);
      expect(headerValues(raw, "strict-transport-security"), raw.slice(0, 300)).toEqual(["max-age=600"]);
    }
  });

  it("keeps keys in a 0700 dir as 0600 files, and removes a certificate no longer served", async () => {
    await haproxy.apply(tlsSnapshot(1, port, [fallback, exact]), materialOf([fallback, exact]));
    const certDir = haproxy.files.certDir;
    expect((await stat(certDir)).mode & 0o777).toBe(0o700);
    const files = (await readdir(certDir)).sort();
    expect(files).toEqual(["exact.pem", "fallback.pem", "web.crtlist"]);
    for (const f of files) expect((await stat(join(certDir, f))).mode & 0o777).toBe(0o600);
    await haproxy.apply(tlsSnapshot(2, port, [fallback]), materialOf([fallback]));
    expect((await readdir(certDir)).sort()).toEqual(["fallback.pem", "web.crtlist"]);
  });

  it("NACKs a certificate without material or with another certificate's, and keeps serving", async () => {
    await haproxy.apply(tlsSnapshot(1, port, [exact]), materialOf([exact]));
    await expect(haproxy.apply(tlsSnapshot(2, port, [exact, wild]), materialOf([exact]))).rejects.toThrow(
      /no key material for certificate wild/,
    );
    const forged = { ...wild.material, chainPem: exact.material.chainPem };
    await expect(
      haproxy.apply(tlsSnapshot(3, port, [exact, wild]), [exact.material, forged]),
    ).rejects.toThrow(/certificate wild/);
    expect(haproxy.applied?.version).toBe(1);
    expect((await handshake(port, "api.example.com")).fingerprint).toBe(exact.ref.fingerprint);
  });

  it("rotation under load: zero failed requests, new handshakes see the new certificate, no reload", async () => {
    const before = makeCertificate("site", ["example.com"]);
    const after = makeCertificate("site", ["example.com"]);
    expect(after.ref.fingerprint).not.toBe(before.ref.fingerprint);
    await haproxy.apply(tlsSnapshot(1, port, [before]), [before.material]);
    const reloadsBefore = await reloads();

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
    const until = async (n: number) => {
      while (ok < n) await new Promise((r) => setTimeout(r, 5));
    };
    await until(20);
    await haproxy.apply(tlsSnapshot(2, port, [after]), [after.material]);
    const swappedAt = newConnFingerprints.length;
    await until(ok + 40);
    running = false;
    await Promise.all([keepAliveLoop, newConnLoop]);
    keepAlive.destroy();

    expect(failures).toBe(0);
    // set ssl cert + commit ssl cert in the running worker: no reload, no rebind.
    expect(await reloads()).toBe(reloadsBefore);
    // The kept-alive connection kept its session (one connection, the old certificate) ...
    expect(keptPorts.size).toBe(1);
    expect([...keptFingerprints]).toEqual([before.ref.fingerprint]);
    // ... while every handshake after the swap got the new one.
    const later = newConnFingerprints.slice(swappedAt + 1);
    expect(later.length).toBeGreaterThan(0);
    expect(new Set(later)).toEqual(new Set([after.ref.fingerprint]));
  });
});

describe("redirectToHttps on HAProxy", () => {
  function redirecting(version: number, status: 301 | 308, httpsPort: number): Snapshot {
    return snap(
      version,
      [http("web", port, "p1", { settings: { redirectToHttps: { status, port: httpsPort } } })],
      [pool("p1", [be("a", echo.port)])],
    );
  }

  it("answers with the same host, the given port, path and query; 443 is left out; a bad Host gets 400", async () => {
    await haproxy.apply(redirecting(1, 308, 8443));
    const r = await get(port, "/a/b?x=1&y", { host: "Example.COM:8080" });
    expect(r.status).toBe(308);
    expect(r.headers.location).toBe("https://example.com:8443/a/b?x=1&y");
    const v6 = await get(port, "/", { host: "[::1]:8080" });
    expect(v6.headers.location).toBe("https://[::1]:8443/");

    await haproxy.apply(redirecting(2, 301, 443));
    const r2 = await get(port, "/p?q", { host: "example.com" });
    expect(r2.status).toBe(301);
    expect(r2.headers.location).toBe("https://example.com/p?q");
    expect((await get(port, "/", { host: "bad host" })).status).toBe(400);
  });
});
