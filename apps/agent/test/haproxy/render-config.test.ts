import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Snapshot, snapshotSchema } from "@fulcrum/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkConfig } from "../../src/engines/haproxy/haproxy-engine";
import { renderConfig } from "../../src/engines/haproxy/render-config";
import { runtimeChanges } from "../../src/engines/haproxy/runtime-diff";
import { certificateFiles, renderCrtLists, rotatedCertificates } from "../../src/engines/haproxy/tls-files";
import { syncTlsFiles } from "../../src/engines/haproxy/tls-store";
import { findUnsupported } from "../../src/engines/haproxy/validate";
import { makeCertificate } from "../helpers/certs";
import { BIN, be, http, pool, snap } from "./fixtures";

const GOLDEN = join(import.meta.dirname, "golden");
const PATHS = {
  statsSocket: "/var/lib/fulcrum-agent/haproxy/stats.sock",
  serverStateFile: "/var/lib/fulcrum-agent/haproxy/server-state",
  certDir: "/var/lib/fulcrum-agent/haproxy/certs",
};

/** Every policy and option the engine maps, in one snapshot. */
const everything = snap(
  7,
  [
    http("web", 8080, "rr", {
      routes: [
        { id: "api", host: "Example.com", pathPrefix: "/api", priority: 10, poolId: "lc" },
        { id: "any", host: "", pathPrefix: "/", priority: 0, poolId: "rr" },
        { id: "static", host: "", pathPrefix: "/static", priority: 0, poolId: "hash" },
      ],
      settings: { trustForwarded: true, maxConnections: 2000 },
    }),
    {
      id: "db",
      name: "db",
      protocol: "tcp",
      bindAddress: "0.0.0.0",
      port: 5433,
      routes: [{ id: "db-r", host: "", pathPrefix: "/", priority: 0, poolId: "first" }],
    },
  ],
  [
    pool(
      "rr",
      [be("a", 9001, { weight: 5 }), be("b", 9002, { state: "draining" }), be("c", 9003, { backup: true })],
      {
        healthCheck: {
          type: "http",
          path: "/health",
          expectStatus: [200, 299],
          expectBody: "ok",
          intervalMs: 1000,
        },
        persistence: { type: "cookie", cookieName: "SID", ttlSeconds: 600 },
        slowStartMs: 5000,
      },
    ),
    pool("lc", [be("d", 9004, { weight: 3, maxConnections: 20 }), be("e", 9005, { state: "disabled" })], {
      policy: "least_connections",
      limits: { maxConnectionsPerBackend: 50, queueSize: 10, queueTimeoutMs: 2000 },
      persistence: { type: "source_ip", ttlSeconds: 120 },
    }),
    pool("hash", [be("f", 9006, { weight: 2 }), be("g", 9007)], {
      policy: "consistent_hash",
      policyOptions: { key: "cookie", keyName: "user" },
      retries: { enabled: false },
    }),
    pool("first", [be("h", 9008), be("i", 9009)], {
      policy: "first_available",
      healthCheck: { type: "tcp" },
    }),
    pool("p2", [be("j", 9010)], { policy: "power_of_two" }),
    pool("src", [be("k", 9011)], { policy: "source_ip_hash" }),
  ],
);

const simple = snap(1, [http("web", 8080, "p1")], [pool("p1", [be("a", 9001), be("b", 9002)])]);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "haproxy-render-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function golden(name: string, text: string) {
  const path = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN) await writeFile(path, text);
  expect(text).toBe(await readFile(path, "utf8"));
}

describe("renderConfig", () => {
  it.each([
    ["simple.cfg", simple],
    ["everything.cfg", everything],
  ])("renders %s as the golden file, and haproxy -c accepts it", async (name, s) => {
    expect(findUnsupported(s)).toEqual([]);
    const text = renderConfig(s, PATHS);
    await golden(name, text);
    const path = join(dir, name);
    await writeFile(
      path,
      text
        .replace(PATHS.statsSocket, join(dir, "stats.sock"))
        .replace(PATHS.serverStateFile, join(dir, "state")),
    );
    await checkConfig(BIN, path);
  });

  it("leaves weights and states out of the structure-only render, so they change without a reload", () => {
    const drained = snap(2, simple.listeners, [
      pool("p1", [be("a", 9001, { state: "draining" }), be("b", 9002)]),
    ]);
    // Weighted policy so weight changes matter.
    const w1 = snap(3, simple.listeners, [
      pool("p1", [be("a", 9001), be("b", 9002)], { policy: "weighted_round_robin" }),
    ]);
    const w2 = snap(4, simple.listeners, [
      pool("p1", [be("a", 9001, { weight: 9 }), be("b", 9002)], { policy: "weighted_round_robin" }),
    ]);
    const neutral = (s: typeof simple) => renderConfig(s, PATHS, { neutral: true });
    expect(neutral(drained)).toBe(neutral(simple));
    expect(renderConfig(drained, PATHS)).not.toBe(renderConfig(simple, PATHS));
    expect(runtimeChanges(simple, drained)).toEqual([
      "set server p_p1/b_a weight 1",
      "set server p_p1/b_a state drain",
    ]);
    expect(runtimeChanges(w1, w2)).toEqual([
      "set server p_p1/b_a weight 9",
      "set server p_p1/b_a state ready",
    ]);
    // round_robin ignores weights: no command for a weight change.
    const rr2 = snap(5, simple.listeners, [pool("p1", [be("a", 9001, { weight: 9 }), be("b", 9002)])]);
    expect(runtimeChanges(simple, rr2)).toEqual([]);
    // A new backend is structure.
    const more = snap(6, simple.listeners, [pool("p1", [be("a", 9001), be("b", 9002), be("c", 9003)])]);
    expect(neutral(more)).not.toBe(neutral(simple));
  });
});

describe("TLS rendering", () => {
  const site = makeCertificate("site", ["example.com", "www.example.com"]);
  const wild = makeCertificate("wild", ["*.example.com", "example.com"]);
  const other = makeCertificate("other", ["www.example.com"]);
  /** An HTTPS listener (wildcard, HSTS, reject, TLS 1.3) and a plain one redirecting to it. */
  function tlsSnap(): Snapshot {
    const base = snap(
      3,
      [
        http("https", 8443, "p1"),
        http("plain", 8080, "p1", { settings: { redirectToHttps: { status: 308, port: 8443 } } }),
      ],
      [pool("p1", [be("a", 9001)])],
    );
    const s = structuredClone(base) as unknown as Record<string, unknown> & {
      listeners: Record<string, unknown>[];
    };
    s.certificates = [site.ref, wild.ref, other.ref];
    s.listeners[0]!.tls = {
      certificateIds: ["site", "wild", "other"],
      defaultCertificateId: "wild",
      unknownName: "reject",
      minVersion: "TLSv1.3",
      hsts: { maxAgeSeconds: 600, includeSubDomains: false, preload: true },
    };
    return snapshotSchema.parse(s);
  }

  it("renders tls.cfg and its crt-list as the golden files, and haproxy -c accepts them", async () => {
    const s = tlsSnap();
    expect(findUnsupported(s)).toEqual([]);
    await golden("tls.cfg", renderConfig(s, PATHS));
    // The default certificate first; each name on the first certificate naming it; "other" has none left.
    const lists = renderCrtLists(s, PATHS.certDir);
    expect([...lists.keys()]).toEqual([`${PATHS.certDir}/https.crtlist`]);
    await golden("tls.crtlist", [...lists.values()][0]!);

    const tmp = {
      statsSocket: join(dir, "tls.sock"),
      serverStateFile: join(dir, "tls-state"),
      certDir: join(dir, "certs"),
    };
    const material = [site.material, wild.material, other.material];
    await syncTlsFiles(
      tmp.certDir,
      new Map([...certificateFiles(s, material, tmp.certDir), ...renderCrtLists(s, tmp.certDir)]),
    );
    const path = join(dir, "tls.cfg");
    await writeFile(path, renderConfig(s, tmp));
    await checkConfig(BIN, path);
  });

  it("a rotation (same id and names, new fingerprint) leaves the config and crt-lists alone: no reload", () => {
    const s = tlsSnap();
    const renewed = makeCertificate("site", ["example.com", "www.example.com"]);
    const t = snapshotSchema.parse({
      ...s,
      version: 4,
      certificates: [renewed.ref, wild.ref, other.ref],
    });
    expect(renderConfig(t, PATHS, { neutral: true })).toBe(renderConfig(s, PATHS, { neutral: true }));
    expect(renderCrtLists(t, PATHS.certDir)).toEqual(renderCrtLists(s, PATHS.certDir));
    expect(rotatedCertificates(s, t)).toEqual(["site"]);
    expect(rotatedCertificates(s, s)).toEqual([]);
  });
});

describe("findUnsupported", () => {
  it("names every option HAProxy cannot express, with the capability table's reason", () => {
    const s = snap(
      1,
      [
        http("a", 8080, "lrt", { settings: { maxHeaderBytes: 8192, timeouts: { responseMs: 5000 } } }),
        http("b", 8081, "mag"),
        { id: "dns", name: "dns", protocol: "dns", bindAddress: "127.0.0.1", port: 5353, routes: [] },
      ],
      [
        pool("lrt", [be("a", 9001)], { policy: "least_response_time", outlierDetection: { enabled: true } }),
        pool("mag", [be("b", 9002)], {
          policy: "consistent_hash",
          policyOptions: { algorithm: "maglev" },
          retries: { enabled: true, attempts: 2, budgetPercent: 20 },
          slowStartMs: 1000,
        }),
      ],
    );
    const keys = findUnsupported(s).map((u) => `${u.where}: ${u.key}`);
    expect(keys).toEqual([
      "listener a: listener:response_timeout_differs",
      "listener dns: listener:dns",
      "HTTP listeners: listener:per_listener_header_limit",
      "pool lrt: policy:least_response_time",
      "pool lrt: pool:outlier_detection",
      "pool mag: consistent_hash:maglev",
      "pool mag: pool:slow_start_static",
      "pool mag: pool:retry_budget",
    ]);
    expect(findUnsupported(s)[0]?.reason).toMatch(/timeout server/);
  });

  it("refuses the request body limits HAProxy cannot hold exactly, and runs their defaults", () => {
    const body = (settings: Record<string, unknown>) =>
      findUnsupported(snap(1, [http("a", 8080, "p", { settings })], [pool("p", [be("x", 9001)])])).map(
        (u) => u.key,
      );
    expect(body({})).toEqual([]);
    expect(body({ minBodyBytesPerSecond: 0, timeouts: { bodyMs: 120_000 } })).toEqual([]);
    expect(body({ maxBodyBytes: 1024 })).toEqual(["listener:max_body_bytes"]);
    expect(body({ timeouts: { bodyMs: 5000 } })).toEqual(["listener:body_timeout_below_idle"]);
    expect(body({ minBodyBytesPerSecond: 1000 })).toEqual(["listener:min_body_rate"]);
    expect(
      findUnsupported(
        snap(1, [http("a", 8080, "p", { settings: { maxBodyBytes: 1 } })], [pool("p", [be("x", 9001)])]),
      )[0]?.reason,
    ).toMatch(/chunked/);
  });
});
