import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { healthCheckSchema, persistenceSchema, snapshotSchema } from "../src/snapshot";

const backend = {
  id: "b",
  name: "",
  address: "192.0.2.1",
  port: 80,
  weight: 1,
  state: "enabled",
  backup: false,
};
const pool = {
  id: "p",
  name: "p",
  policy: "round_robin",
  policyOptions: {},
  healthCheck: {},
  persistence: {},
  backends: [backend],
};
const route = { id: "r", host: "", pathPrefix: "/", priority: 0, poolId: "p" };
const listener = { id: "l", name: "l", protocol: "http", bindAddress: "0.0.0.0", port: 80, routes: [route] };
const snap = (
  over: { pool?: object; backend?: object; route?: object; listener?: object; top?: object } = {},
) => ({
  version: 1,
  hash: "a".repeat(64),
  clusterId: "c",
  createdAt: "2026-01-01T00:00:00.000Z",
  listeners: [{ ...listener, routes: [{ ...route, ...over.route }], ...over.listener }],
  pools: [{ ...pool, backends: [{ ...backend, ...over.backend }], ...over.pool }],
  ...over.top,
});

/** The first issue's path, so each case proves it was refused for the field under test. */
function refusedAt(input: unknown): string {
  const r = snapshotSchema.safeParse(input);
  expect(r.success).toBe(false);
  return r.error!.issues[0]!.path.join(".");
}

const CRLF = "\r\nX-Injected: 1";

describe("snapshot grammar: the reported defects", () => {
  it("refuses a health-check path with a space (it crashed every agent)", () => {
    expect(healthCheckSchema.safeParse({ type: "http", path: "/a b" }).success).toBe(false);
    expect(refusedAt(snap({ pool: { healthCheck: { type: "http", path: "/a b" } } }))).toBe(
      "pools.0.healthCheck.path",
    );
  });

  it("refuses a cookie name with CR LF (it split every response of the pool)", () => {
    expect(persistenceSchema.safeParse({ type: "cookie", cookieName: `S${CRLF}` }).success).toBe(false);
    expect(refusedAt(snap({ pool: { persistence: { type: "cookie", cookieName: `S${CRLF}` } } }))).toBe(
      "pools.0.persistence.cookieName",
    );
  });

  it("refuses policyOptions nested 5,000 deep with an issue, not a stack overflow", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 5_000; i++) deep = { deep };
    expect(refusedAt(snap({ pool: { policyOptions: { deep } } }))).toBe("pools.0.policyOptions");
  });
});

describe("snapshot grammar: every string that reaches a header, a request line, a file or a log", () => {
  it.each<[string, object]>([
    ["pools.0.healthCheck.path", { pool: { healthCheck: { path: "/health\r\nHost: x" } } }],
    ["pools.0.healthCheck.path", { pool: { healthCheck: { path: "/é" } } }],
    ["pools.0.healthCheck.path", { pool: { healthCheck: { path: "/a#b" } } }],
    ["pools.0.healthCheck.path", { pool: { healthCheck: { path: `/${"a".repeat(3000)}` } } }],
    ["pools.0.healthCheck.expectBody", { pool: { healthCheck: { expectBody: `ok${CRLF}` } } }],
    ["pools.0.healthCheck.expectBody", { pool: { healthCheck: { expectBody: "ok\u0000" } } }],
    ["pools.0.persistence.cookieName", { pool: { persistence: { cookieName: "a b" } } }],
    ["pools.0.persistence.cookieName", { pool: { persistence: { cookieName: "a=b" } } }],
    ["pools.0.persistence.cookieName", { pool: { persistence: { cookieName: "" } } }],
    ["pools.0.persistence.cookieName", { pool: { persistence: { cookieName: "__Host-x" } } }],
    ["pools.0.name", { pool: { name: `web${CRLF}` } }],
    ["pools.0.name", { pool: { name: "" } }],
    ["pools.0.id", { pool: { id: "p\n" } }],
    ["pools.0.policyOptions", { pool: { policyOptions: { a: "x".repeat(300) } } }],
    [
      "pools.0.policyOptions.keyName",
      { pool: { policy: "consistent_hash", policyOptions: { key: "header", keyName: "X User" } } },
    ],
    [
      "pools.0.policyOptions.keyName",
      { pool: { policy: "consistent_hash", policyOptions: { key: "cookie", keyName: `s${CRLF}` } } },
    ],
    [
      "pools.0.policyOptions.keyName",
      { pool: { policy: "consistent_hash", policyOptions: { key: "header" } } },
    ],
    ["pools.0.backends.0.name", { backend: { name: "a\u0000b" } }],
    ["pools.0.backends.0.address", { backend: { address: "a b" } }],
    ["pools.0.backends.0.address", { backend: { address: "evil.com\r\n" } }],
    ["pools.0.backends.0.address", { backend: { address: "300.1.1.1" } }],
    ["pools.0.backends.0.address", { backend: { address: "[::1]" } }],
    ["pools.0.backends.0.publicBaseUrl", { backend: { publicBaseUrl: "http://a/\r\nSet-Cookie: x=1" } }],
    ["pools.0.backends.0.publicBaseUrl", { backend: { publicBaseUrl: "http://a/\tb" } }],
    ["pools.0.backends.0.id", { backend: { id: "" } }],
    ["listeners.0.bindAddress", { listener: { bindAddress: "0.0.0.0 " } }],
    ["listeners.0.name", { listener: { name: "l\u2028" } }],
    ["listeners.0.routes.0.host", { route: { host: "a b" } }],
    ["listeners.0.routes.0.host", { route: { host: "a.com\r\nX: y" } }],
    ["listeners.0.routes.0.pathPrefix", { route: { pathPrefix: "/a b" } }],
    ["listeners.0.routes.0.pathPrefix", { route: { pathPrefix: "/a?b" } }],
    [
      "listeners.0.routes.0.redirect.loopGuard",
      { route: { action: "redirect", redirect: { loopGuard: "a&b" } } },
    ],
    ["clusterId", { top: { clusterId: "c\n" } }],
    ["createdAt", { top: { createdAt: "t\n" } }],
  ])("refuses at %s: %j", (path, over) => {
    expect(refusedAt(snap(over))).toBe(path);
  });

  it("accepts what people write: quotes and non-ASCII in names, percent-escapes in paths, IPv6, host names", () => {
    const s = snapshotSchema.parse(
      snap({
        pool: {
          name: `Café "web" ☕`,
          policy: "consistent_hash",
          policyOptions: { key: "cookie", keyName: "session_id" },
          healthCheck: { type: "http", path: "/health%20check?full=1&x=/y", expectBody: `"status": "ok" ✓` },
          persistence: { type: "cookie", cookieName: "SRV~1" },
        },
        backend: { name: "eu west (1)", address: "2001:db8::1", publicBaseUrl: "https://m.example.com/pub" },
        route: { host: "Example.COM", pathPrefix: "/api/v1/" },
        listener: { bindAddress: "::" },
      }),
    );
    expect(s.pools[0]!.healthCheck.path).toBe("/health%20check?full=1&x=/y");
  });

  it("parses the console's golden snapshots", () => {
    const dir = join(import.meta.dirname, "../../../apps/console/src/server/snapshot/golden");
    const files = readdirSync(dir).filter((f) => f.endsWith(".snapshot.json"));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      // Golden files hold the compiled part (hash, listeners, pools); the console adds the rest when it publishes.
      const compiled = JSON.parse(readFileSync(join(dir, f), "utf8"));
      const r = snapshotSchema.safeParse({ version: 1, clusterId: "c", createdAt: "t", ...compiled });
      expect(r.error?.issues, f).toBeUndefined();
    }
  });
});
