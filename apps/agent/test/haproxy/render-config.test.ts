import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkConfig } from "../../src/engines/haproxy/haproxy-engine";
import { renderConfig } from "../../src/engines/haproxy/render-config";
import { runtimeChanges } from "../../src/engines/haproxy/runtime-diff";
import { findUnsupported } from "../../src/engines/haproxy/validate";
import { BIN, be, http, pool, snap } from "./fixtures";

const GOLDEN = join(import.meta.dirname, "golden");
const PATHS = {
  statsSocket: "/var/lib/fulcrum-agent/haproxy/stats.sock",
  serverStateFile: "/var/lib/fulcrum-agent/haproxy/server-state",
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
