import { describe, expect, it } from "vitest";
import { unsupportedReason } from "../src/engine-support";
import {
  grpcServiceSchema,
  http2FeaturesUsed,
  listenerHttp2Schema,
  poolUpstreamSchema,
  upstreamFeaturesUsed,
} from "../src/http2";
import { snapshotSchema } from "../src/snapshot";

const fp = (c: string) => c.repeat(64);
const pool = (extra: Record<string, unknown> = {}) => ({
  id: "p",
  name: "web",
  policy: "round_robin",
  policyOptions: {},
  healthCheck: {},
  persistence: {},
  backends: [],
  ...extra,
});
const listener = (extra: Record<string, unknown> = {}) => ({
  id: "l",
  name: "front",
  protocol: "http",
  bindAddress: "127.0.0.1",
  port: 8080,
  routes: [{ id: "r", host: "", pathPrefix: "/", priority: 0, poolId: "p" }],
  ...extra,
});
const snapshot = (l: Record<string, unknown>, p: Record<string, unknown> = {}) => ({
  version: 1,
  hash: fp("0"),
  clusterId: "c",
  createdAt: "2026-01-01T00:00:00Z",
  listeners: [listener(l)],
  pools: [pool(p)],
});
const messages = (r: { success: boolean; error?: { issues: { message: string }[] } }) =>
  (r.error?.issues ?? []).map((i) => i.message).join("\n");

describe("HTTP/2 settings in the snapshot (issue 18)", () => {
  it("defaults: h2 on with TLS, h2c off, bounded limits; pools speak HTTP/1.1", () => {
    expect(listenerHttp2Schema.parse({})).toEqual({
      h2: true,
      h2c: false,
      maxConcurrentStreams: 100,
      maxHeaderListBytes: 65_536,
      initialWindowBytes: 1_048_576,
      idleMs: 120_000,
    });
    expect(poolUpstreamSchema.parse({})).toEqual({ protocol: "http1", maxStreamsPerConnection: 100 });
  });

  it("leaves http2 and upstream out when unset, so older snapshot hashes hold", () => {
    const s = snapshotSchema.parse(snapshot({}));
    expect("http2" in s.listeners[0]!).toBe(false);
    expect("upstream" in s.pools[0]!).toBe(false);
    expect(s.pools[0]!.healthCheck).not.toHaveProperty("grpcService");
  });

  it("refuses hostile and out-of-range limits", () => {
    for (const bad of [
      { maxConcurrentStreams: 0 },
      { maxConcurrentStreams: 1001 },
      { maxConcurrentStreams: 1.5 },
      { maxConcurrentStreams: Number.NaN },
      { maxConcurrentStreams: "100" },
      { maxHeaderListBytes: 1023 },
      { maxHeaderListBytes: 1_048_577 },
      { initialWindowBytes: 65_534 },
      // RFC 9113 6.9.1: a window above 2^31-1 is a flow-control error; we cap lower.
      { initialWindowBytes: 2 ** 31 },
      { idleMs: 999 },
      { idleMs: Number.POSITIVE_INFINITY },
      { h2: "yes" },
      { h2c: 1 },
    ]) {
      expect(listenerHttp2Schema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    for (const bad of [
      { protocol: "h3" },
      { protocol: "HTTP1" },
      { protocol: "h2\r\n" },
      { maxStreamsPerConnection: 0 },
      { maxStreamsPerConnection: 1001 },
    ]) {
      expect(poolUpstreamSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it("accepts the bounds themselves", () => {
    const lo = {
      maxConcurrentStreams: 1,
      maxHeaderListBytes: 1024,
      initialWindowBytes: 65_535,
      idleMs: 1000,
    };
    const hi = {
      maxConcurrentStreams: 1000,
      maxHeaderListBytes: 1_048_576,
      initialWindowBytes: 16_777_215,
      idleMs: 3_600_000,
    };
    expect(listenerHttp2Schema.parse(lo)).toMatchObject(lo);
    expect(listenerHttp2Schema.parse(hi)).toMatchObject(hi);
  });

  it("refuses HTTP/2 on a tcp listener", () => {
    const r = snapshotSchema.safeParse(snapshot({ protocol: "tcp", http2: {} }));
    expect(r.success).toBe(false);
    expect(messages(r)).toMatch(/listener l: HTTP\/2 belongs to http listeners, not tcp ones/);
    expect(snapshotSchema.safeParse(snapshot({ protocol: "tcp", http2: null })).success).toBe(true);
  });

  it("refuses h2 upstream without the pool's TLS, and h2c with it, with a clear message", () => {
    const h2 = snapshotSchema.safeParse(snapshot({}, { upstream: { protocol: "h2" } }));
    expect(h2.success).toBe(false);
    expect(messages(h2)).toMatch(/pool p: upstream protocol h2 is HTTP\/2 over TLS and needs the pool's TLS/);
    expect(snapshotSchema.safeParse(snapshot({}, { upstream: { protocol: "h2" }, tls: {} })).success).toBe(
      true,
    );

    const h2c = snapshotSchema.safeParse(snapshot({}, { upstream: { protocol: "h2c" }, tls: {} }));
    expect(h2c.success).toBe(false);
    expect(messages(h2c)).toMatch(/h2c is HTTP\/2 without TLS/);
    expect(snapshotSchema.safeParse(snapshot({}, { upstream: { protocol: "h2c" } })).success).toBe(true);
  });

  it("refuses an HTTP/2 upstream on a pool a tcp listener routes to", () => {
    const r = snapshotSchema.safeParse(snapshot({ protocol: "tcp" }, { upstream: { protocol: "h2c" } }));
    expect(r.success).toBe(false);
    expect(messages(r)).toMatch(/a tcp listener routes to it/);
  });

  it("takes gRPC health checks with a service name from a strict grammar", () => {
    const ok = snapshotSchema.parse(
      snapshot({}, { healthCheck: { type: "grpc", grpcService: "helloworld.Greeter" } }),
    );
    expect(ok.pools[0]!.healthCheck).toMatchObject({ type: "grpc", grpcService: "helloworld.Greeter" });
    for (const good of ["", "grpc.health.v1.Health", "a_b-c/d.E9"]) {
      expect(grpcServiceSchema.safeParse(good).success, good).toBe(true);
    }
    for (const bad of [
      "a b",
      "svc\r\nx",
      "svc\u0000",
      "'quoted'",
      "é",
      ".lead",
      "x".repeat(201),
      "a\tb",
      "a#b",
    ]) {
      expect(grpcServiceSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
      const r = snapshotSchema.safeParse(snapshot({}, { healthCheck: { type: "grpc", grpcService: bad } }));
      expect(r.success, JSON.stringify(bad)).toBe(false);
    }
  });

  it("names the capability-table features a listener and a pool use", () => {
    const tls = { certificateIds: ["c"] };
    expect(http2FeaturesUsed({ protocol: "http", tls, http2: { h2: true, h2c: false } })).toEqual([
      "listener:http2",
    ]);
    expect(http2FeaturesUsed({ protocol: "http", tls, http2: { h2: false, h2c: true } })).toEqual([]);
    expect(http2FeaturesUsed({ protocol: "http", http2: { h2: true, h2c: true } })).toEqual(["listener:h2c"]);
    expect(http2FeaturesUsed({ protocol: "http", http2: { h2: true, h2c: false } })).toEqual([]);
    expect(http2FeaturesUsed({ protocol: "http", http2: null })).toEqual([]);
    expect(upstreamFeaturesUsed({ upstream: { protocol: "h2" }, healthCheck: { type: "grpc" } })).toEqual([
      "pool:upstream_h2",
      "health:grpc",
    ]);
    expect(upstreamFeaturesUsed({ upstream: { protocol: "h2c" }, healthCheck: { type: "http" } })).toEqual([
      "pool:upstream_h2c",
    ]);
    expect(upstreamFeaturesUsed({ healthCheck: { type: "none" } })).toEqual([]);
    for (const key of [
      "listener:http2",
      "listener:h2c",
      "pool:upstream_h2",
      "pool:upstream_h2c",
      "health:grpc",
    ]) {
      // Every key the helpers return has a row (unknown keys would count as supported).
      expect(unsupportedReason("builtin", key) ?? "row", key).toBeTruthy();
    }
  });
});
