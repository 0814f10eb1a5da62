import type { Snapshot, SnapshotProxyListener } from "@fulcrum/protocol";
import { healthCheckSchema } from "@fulcrum/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeHealthCheck } from "../src/components/pools/policies";
import { actors, callerAs, failure, startTestConsole, type TestConsole } from "./support/console";

/*
 * HTTP/2 and gRPC settings in the console (issue 18): a listener's http2, a
 * pool's upstream protocol and gRPC health check, through the topology API
 * (commitTopologyChange: dry run, audit, compile, the publish gate) into the
 * snapshot agents get; what the dry run shows; what is refused and why.
 */

describe("HTTP/2 and gRPC through the topology API", () => {
  let c: TestConsole;
  let op: ReturnType<typeof callerAs>;
  let clusterId: string;
  let poolId: string;
  let listenerId: string;

  beforeAll(async () => {
    c = await startTestConsole();
    op = callerAs(c, actors.operator);
    clusterId = (await op.cluster.create({ name: "h2" })).id;
    poolId = (await op.pool.create({ clusterId, name: "grpc" })).id;
    await op.backend.create({ poolId, address: "10.0.0.7", port: 50051 });
    listenerId = (await op.listener.create({ clusterId, name: "web", port: 8080 })).id;
    await op.route.create({ listenerId, poolId });
  });
  afterAll(async () => {
    await c?.stop();
  });

  const latest = async () =>
    (await c.services.prisma.configVersion.findFirst({
      where: { clusterId },
      orderBy: { version: "desc" },
    }))!;
  const snapshot = async () => (await latest()).snapshot as unknown as Snapshot;

  it("leaves http2 and upstream out of the snapshot until they are set", async () => {
    const s = await snapshot();
    expect(s.listeners[0]).not.toHaveProperty("http2");
    expect(s.pools[0]).not.toHaveProperty("upstream");
  });

  it("a dry run shows the HTTP/2 settings; applying puts them in the snapshot, audited", async () => {
    const before = await latest();
    const http2 = { h2: true, h2c: true, maxConcurrentStreams: 50, idleMs: 30_000 };
    const preview = await op.change.preview({ kind: "listener.update", input: { id: listenerId, http2 } });
    expect(preview.changed).toBe(true);
    const fields = preview.diff
      .filter((d) => d.object.startsWith("listener web"))
      .map((d) => [d.field, d.after]);
    expect(fields).toEqual(
      expect.arrayContaining([
        ["http2.h2c", true],
        ["http2.maxConcurrentStreams", 50],
        ["http2.maxHeaderListBytes", 65_536],
        ["http2.initialWindowBytes", 1_048_576],
        ["http2.idleMs", 30_000],
      ]),
    );
    // The dry run changed nothing.
    expect((await latest()).version).toBe(before.version);

    await op.listener.update({ id: listenerId, http2 });
    const s = await snapshot();
    expect((s.listeners[0] as SnapshotProxyListener).http2).toEqual({
      ...http2,
      maxHeaderListBytes: 65_536,
      initialWindowBytes: 1_048_576,
    });
    const audit = await c.services.prisma.auditEntry.findFirst({
      where: { targetId: listenerId, action: "listener.update" },
      orderBy: { createdAt: "desc" },
    });
    expect(JSON.stringify(audit?.after)).toContain('"maxConcurrentStreams":50');

    // null turns it off, and the snapshot hashes as an HTTP/1.1-only one again.
    await op.listener.update({ id: listenerId, http2: null });
    expect((await snapshot()).listeners[0]).not.toHaveProperty("http2");
    expect((await latest()).hash).toBe(before.hash);
  });

  it("h2c upstream and a gRPC health check reach the snapshot", async () => {
    await op.pool.update({
      id: poolId,
      upstream: { protocol: "h2c", maxStreamsPerConnection: 10 },
      healthCheck: { type: "grpc", grpcService: "helloworld.Greeter", intervalMs: 2000 },
    });
    const p = (await snapshot()).pools[0]!;
    expect(p.upstream).toEqual({ protocol: "h2c", maxStreamsPerConnection: 10 });
    expect(p.healthCheck).toMatchObject({
      type: "grpc",
      grpcService: "helloworld.Greeter",
      intervalMs: 2000,
    });
  });

  it("refuses hostile or out-of-range values with the field named, changing nothing", async () => {
    const v0 = (await latest()).version;
    const cases: Array<[Promise<unknown>, string]> = [
      [
        op.listener.update({ id: listenerId, http2: { maxConcurrentStreams: 0 } }),
        "http2.maxConcurrentStreams",
      ],
      [
        op.listener.update({ id: listenerId, http2: { maxConcurrentStreams: 1001 } }),
        "http2.maxConcurrentStreams",
      ],
      [
        op.listener.update({ id: listenerId, http2: { initialWindowBytes: 2 ** 31 } }),
        "http2.initialWindowBytes",
      ],
      [op.listener.update({ id: listenerId, http2: { maxHeaderListBytes: 10 } }), "http2.maxHeaderListBytes"],
      [op.listener.update({ id: listenerId, http2: { h2c: "yes" as unknown as boolean } }), "http2.h2c"],
      [op.pool.update({ id: poolId, upstream: { protocol: "h3" as "h2" } }), "upstream.protocol"],
      [
        op.pool.update({ id: poolId, healthCheck: { type: "grpc", grpcService: "svc\r\nX-Evil: 1" } }),
        "healthCheck.grpcService",
      ],
      [
        op.pool.update({ id: poolId, healthCheck: { type: "grpc", grpcService: "a b" } }),
        "healthCheck.grpcService",
      ],
      // Both given: refused by the input schema.
      [op.pool.update({ id: poolId, upstream: { protocol: "h2" }, tls: null }), "upstream.protocol"],
      [op.listener.create({ clusterId, name: "raw", protocol: "tcp", port: 9000, http2: {} }), "http2"],
    ];
    for (const [call, field] of cases) {
      const f = await failure(call);
      expect(f.code, field).toBe("BAD_REQUEST");
      expect(Object.keys(f.fieldErrors), field).toContain(field);
    }
    expect((await latest()).version).toBe(v0);
  });

  it("refuses h2 upstream on a pool without TLS, naming the field and the fix", async () => {
    const v0 = (await latest()).version;
    const f = await failure(op.pool.update({ id: poolId, upstream: { protocol: "h2" } }));
    expect(f.code).toBe("BAD_REQUEST");
    expect(f.fieldErrors["upstream.protocol"]).toMatch(/HTTP\/2 over TLS needs TLS to backends/);
    const c2 = await failure(
      op.pool.update({ id: poolId, upstream: { protocol: "h2c" }, tls: { verify: "none" } }),
    );
    expect(c2.fieldErrors["upstream.protocol"]).toMatch(/h2c is HTTP\/2 without TLS/);
    expect((await latest()).version).toBe(v0);
    // With TLS to backends it is taken.
    await op.pool.update({ id: poolId, upstream: { protocol: "h2" }, tls: { verify: "none" } });
    expect((await snapshot()).pools[0]!.upstream?.protocol).toBe("h2");
    expect((await latest()).version).toBe(v0 + 1);
  });

  it("refuses switching an HTTP/2 listener to TCP until HTTP/2 is off", async () => {
    await op.listener.update({ id: listenerId, http2: {} });
    const f = await failure(op.listener.update({ id: listenerId, protocol: "tcp" }));
    expect(f.fieldErrors.http2).toMatch(/Only HTTP listeners speak HTTP\/2/);
  });

  it("a rollback restores the HTTP/2 settings and the pool's upstream and TLS", async () => {
    const withAll = (await latest()).version;
    await op.listener.update({ id: listenerId, http2: null });
    await op.pool.update({ id: poolId, upstream: null, tls: null });
    expect((await snapshot()).pools[0]).not.toHaveProperty("upstream");
    await op.config.rollback({ clusterId, version: withAll });
    const s = await snapshot();
    expect((s.listeners[0] as SnapshotProxyListener).http2).toMatchObject({ h2: true, h2c: false });
    expect(s.pools[0]!.upstream?.protocol).toBe("h2");
    expect(s.pools[0]!.tls).toMatchObject({ verify: "none" });
  });
});

describe("the pool card's words for a gRPC check", () => {
  it("names the service, or the whole server", () => {
    const hc = (o: object) => healthCheckSchema.parse({ type: "grpc", intervalMs: 2000, ...o });
    expect(describeHealthCheck(hc({ grpcService: "helloworld.Greeter" }))).toBe(
      "gRPC Health/Check helloworld.Greeter every 2s · rise 2 / fall 3",
    );
    expect(describeHealthCheck(hc({}))).toMatch(/^gRPC Health\/Check \(whole server\)/);
  });
});
