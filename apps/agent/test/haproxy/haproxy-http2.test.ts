import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createH2cServer, createSecureServer, type Http2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Snapshot, type SnapshotInput, snapshotSchema } from "@fulcrum/protocol";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { HaproxyEngine } from "../../src/engines/haproxy/haproxy-engine";
import { silentLogger } from "../../src/log";
import { makeCertificate, type TestCertificate } from "../helpers/certs";
import { freePort } from "../helpers/net";
import { makeTestCa, type TestCa } from "../helpers/test-ca";
import { BIN, be, http, pool, snap } from "./fixtures";

/*
 * HTTP/2 on the HAProxy engine (issue 18), through a real HAProxy and curl:
 * ALPN h2 on a TLS listener, h2c with prior knowledge on a plain one (and
 * refused where the listener does not enable it), HTTP/2 to h2c and h2 (TLS)
 * backends made with node:http2, and the NACKs for what HAProxy cannot express.
 */

const run = promisify(execFile);

/** curl through the agent: the HTTP version curl spoke and the body; `fails` when curl exits non-zero. */
async function curl(args: string[]): Promise<{ version: string; body: string } | { fails: string }> {
  try {
    const { stdout } = await run("curl", [
      "-sS",
      "--max-time",
      "5",
      "-k",
      "-w",
      "\n%{http_version}",
      ...args,
    ]);
    const at = stdout.lastIndexOf("\n");
    return { body: stdout.slice(0, at), version: stdout.slice(at + 1) };
  } catch (e) {
    return { fails: String((e as { stderr?: string }).stderr ?? e) };
  }
}

/** Backends answer with the HTTP version HAProxy spoke to them. */
const answer = (req: { httpVersion: string }, res: { end(s: string): void }) =>
  res.end(`backend saw HTTP/${req.httpVersion}`);

let h1: Server;
let h2c: Http2Server;
let h2tls: Http2Server;
let ca: TestCa;
let cert: TestCertificate;
const portOf = (s: { address(): unknown }) => (s.address() as AddressInfo).port;
beforeAll(async () => {
  ca = makeTestCa("h2-backend-ca");
  const leaf = ca.sign("h2-backend", "h2-backend", ["IP:127.0.0.1"], "serverAuth");
  cert = makeCertificate("front", ["example.com"]);
  h1 = createHttpServer(answer);
  h2c = createH2cServer(answer);
  h2tls = createSecureServer({ cert: leaf.material.chainPem, key: leaf.material.keyPem }, answer);
  for (const s of [h1, h2c, h2tls]) await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
});
afterAll(() => {
  for (const s of [h1, h2c, h2tls]) s.close();
  ca.dispose();
});

let dir: string;
let haproxy: HaproxyEngine;
let port: number;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "haproxy-h2-"));
  haproxy = new HaproxyEngine({ log: silentLogger, stateDir: dir, bin: BIN, statsIntervalMs: 200 });
  port = await freePort();
});
afterEach(async () => {
  await haproxy.stop();
  await rm(dir, { recursive: true, force: true });
});

type ListenerInput = SnapshotInput["listeners"][number];
type PoolInput = SnapshotInput["pools"][number];
/** HTTP/2 settings HAProxy accepts: the idle timeout equal to the listener's keep-alive (30 s). */
const H2 = { idleMs: 30_000 };

function withTls(s: Snapshot): Snapshot {
  const raw = structuredClone(s) as unknown as {
    certificates: unknown[];
    listeners: Record<string, unknown>[];
  };
  raw.certificates = [cert.ref];
  raw.listeners[0]!.tls = { certificateIds: [cert.ref.id], defaultCertificateId: cert.ref.id };
  return snapshotSchema.parse(raw);
}

const one = (version: number, listener: Partial<ListenerInput>, p: PoolInput) =>
  snap(version, [http("web", port, p.id, listener)], [p]);

describe("HTTP/2 on HAProxy", () => {
  it("speaks h2 by ALPN on a TLS listener with http2, HTTP/1.1 to clients that do not offer it", async () => {
    await haproxy.apply(withTls(one(1, { http2: H2 }, pool("p1", [be("a", portOf(h1))]))), [cert.material]);
    const url = `https://example.com:${port}/`;
    const resolve = `example.com:${port}:127.0.0.1`;
    expect(await curl(["--http2", "--resolve", resolve, url])).toEqual({
      version: "2",
      body: "backend saw HTTP/1.1",
    });
    expect(await curl(["--http1.1", "--resolve", resolve, url])).toMatchObject({ version: "1.1" });
    const cfg = await readFile(haproxy.files.configPath, "utf8");
    expect(cfg).toMatch(/alpn h2,http\/1\.1/);
    expect(cfg).toContain("tune.h2.max-concurrent-streams 100");

    // Without http2 the same listener offers http/1.1 only.
    await haproxy.apply(withTls(one(2, {}, pool("p1", [be("a", portOf(h1))]))), [cert.material]);
    expect(await curl(["--http2", "--resolve", resolve, url])).toMatchObject({ version: "1.1" });
  });

  it("accepts h2c with prior knowledge only where the listener enables it", async () => {
    const url = `http://127.0.0.1:${port}/`;
    await haproxy.apply(one(1, {}, pool("p1", [be("a", portOf(h1))])));
    expect(await curl(["--http2-prior-knowledge", url])).toHaveProperty("fails");
    expect(await curl([url])).toEqual({ version: "1.1", body: "backend saw HTTP/1.1" });

    await haproxy.apply(one(2, { http2: { ...H2, h2c: true } }, pool("p1", [be("a", portOf(h1))])));
    expect(await curl(["--http2-prior-knowledge", url])).toEqual({
      version: "2",
      body: "backend saw HTTP/1.1",
    });
    expect(await curl([url])).toMatchObject({ version: "1.1" });
  });

  it("speaks h2c (HTTP-checked over HTTP/2) and h2 over TLS (TCP-checked) to backends", async () => {
    const url = `http://127.0.0.1:${port}/`;
    const checked = { healthCheck: { type: "http" as const, intervalMs: 200 } };
    await haproxy.apply(
      one(1, {}, pool("p1", [be("a", portOf(h2c))], { upstream: { protocol: "h2c" }, ...checked })),
    );
    expect(await curl([url])).toEqual({ version: "1.1", body: "backend saw HTTP/2.0" });
    // The HTTP checks (every 200 ms, down after 3 failures) pass over h2c: the backend stays up.
    // HAProxy's default HTTP/1.0 check without Host fails against an h2-only server (measured).
    await new Promise((r) => setTimeout(r, 1200));
    expect(await curl([url])).toEqual({ version: "1.1", body: "backend saw HTTP/2.0" });
    expect(await readFile(haproxy.files.configPath, "utf8")).toContain(
      "http-check send meth GET uri '/' ver HTTP/1.1 hdr host localhost",
    );
    await haproxy.apply(
      one(
        2,
        {},
        pool("p1", [be("a", portOf(h2tls))], {
          upstream: { protocol: "h2" },
          tls: { verify: "none" },
          healthCheck: { type: "tcp", intervalMs: 200 },
        }),
      ),
    );
    expect(await curl([url])).toEqual({ version: "1.1", body: "backend saw HTTP/2.0" });
    const cfg = await readFile(haproxy.files.configPath, "utf8");
    expect(cfg).toMatch(/ssl .*alpn h2 .*check-ssl proto h2/);
    await new Promise((r) => setTimeout(r, 1200));
    expect(await curl([url])).toEqual({ version: "1.1", body: "backend saw HTTP/2.0" });
  });

  it("NACKs what HAProxy cannot express, naming each use", async () => {
    const p = pool("p1", [be("a", portOf(h2c))]);
    await expect(
      haproxy.apply(one(1, {}, { ...p, upstream: { protocol: "h2c" }, healthCheck: { type: "grpc" } })),
    ).rejects.toThrow(/pool p1: health:grpc: HAProxy's http-check cannot send the binary gRPC request/);
    await expect(haproxy.apply(one(2, { http2: { h2c: true } }, p))).rejects.toThrow(
      /listener web: listener:h2_idle_differs/,
    );
    await expect(
      haproxy.apply(one(3, {}, { ...p, upstream: { protocol: "h2c", maxStreamsPerConnection: 10 } })),
    ).rejects.toThrow(/pool p1: pool:upstream_stream_cap/);
    await expect(
      haproxy.apply(
        one(
          5,
          {},
          { ...p, upstream: { protocol: "h2" }, tls: { verify: "none" }, healthCheck: { type: "http" } },
        ),
      ),
    ).rejects.toThrow(/pool p1: pool:upstream_h2_http_check/);
    const two = snap(
      4,
      [
        http("a", port, "p1", { http2: { ...H2, h2c: true, maxConcurrentStreams: 10 } }),
        http("b", await freePort(), "p1", { http2: { ...H2, h2c: true } }),
      ],
      [p],
    );
    await expect(haproxy.apply(two)).rejects.toThrow(/listener:per_listener_h2_settings/);
  });
});
