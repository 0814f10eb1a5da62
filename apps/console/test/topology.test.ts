import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type callerAs, failure, type TestConsole } from "./support/console";
import { type Stack, startStack } from "./support/stack";

describe("topology API", () => {
  let stack: Stack;
  let c: TestConsole;
  let op: ReturnType<typeof callerAs>;
  let clusterId: string;

  beforeAll(async () => {
    stack = await startStack({ cluster: "prod" });
    ({ console: c, operator: op, clusterId } = stack);
  });
  afterAll(async () => {
    await stack?.close();
  });

  const auditCount = () => c.services.prisma.auditEntry.count();
  const latestVersion = async () =>
    (await c.services.prisma.configVersion.findFirst({ where: { clusterId }, orderBy: { version: "desc" } }))
      ?.version ?? 0;

  it("creates a listener, pool, backends and a route, each with an audit entry and a new config version", async () => {
    const audits = await auditCount();
    const listener = await op.listener.create({ clusterId, name: "web", port: 8080 });
    const pool = await op.pool.create({ clusterId, name: "app" });
    await op.backend.create({ poolId: pool.id, address: "10.0.0.1", port: 80 });
    await op.backend.create({ poolId: pool.id, address: "app-2.internal", port: 80, weight: 50 });
    await op.route.create({
      listenerId: listener.id,
      poolId: pool.id,
      host: "Example.COM",
      pathPrefix: "/api",
    });
    expect(await auditCount()).toBe(audits + 5);
    expect(await latestVersion()).toBe(5);

    const snapshot = (await c.services.prisma.configVersion.findFirst({ where: { clusterId, version: 5 } }))!
      .snapshot as {
      listeners: Array<{ routes: Array<{ host: string }> }>;
      pools: Array<{ backends: unknown[] }>;
    };
    expect(snapshot.listeners[0]!.routes[0]!.host).toBe("example.com");
    expect(snapshot.pools[0]!.backends).toHaveLength(2);

    const entry = await c.services.prisma.auditEntry.findFirst({
      where: { action: "backend.create" },
      orderBy: { createdAt: "desc" },
    });
    expect(entry?.actorName).toBe("operator@test");
    expect((entry!.after as { address: string }).address).toBe("app-2.internal");
  });

  it("records no new version when a change leaves the compiled snapshot as it was", async () => {
    const listener = (await op.listener.list({ clusterId }))[0]!;
    const before = await latestVersion();
    await op.listener.update({ id: listener.id, port: listener.port });
    expect(await latestVersion()).toBe(before);
  });

  it("lists one object's audit history when asked by its id", async () => {
    const pool = await op.pool.create({ clusterId, name: "history-of-one" });
    await op.pool.update({ id: pool.id, policy: "least_connections" });
    await op.pool.create({ clusterId, name: "someone-else" });
    const history = await op.audit.list({ targetId: pool.id });
    expect(history.map((e) => e.action)).toEqual(["pool.update", "pool.create"]);
    expect(history.every((e) => e.targetId === pool.id)).toBe(true);
  });

  it("changes only the pool fields an update names (a rename keeps policy, checks, limits, upstream)", async () => {
    const pool = await op.pool.create({
      clusterId,
      name: "keeps-its-settings",
      policy: "least_connections",
      healthCheck: { type: "tcp", intervalMs: 1000 },
      persistence: { type: "source_ip" },
      slowStartMs: 5000,
      limits: { maxConnectionsPerBackend: 7 },
      upstream: { protocol: "h2c" },
    });
    await op.pool.update({ id: pool.id, name: "renamed-only" });
    const after = (await op.pool.list({ clusterId })).find((p) => p.id === pool.id)!;
    expect(after.name).toBe("renamed-only");
    expect(after.policy).toBe("least_connections");
    expect(after.healthCheck).toMatchObject({ type: "tcp", intervalMs: 1000 });
    expect(after.persistence).toMatchObject({ type: "source_ip" });
    expect(after.slowStartMs).toBe(5000);
    expect(after.limits).toMatchObject({ maxConnectionsPerBackend: 7 });
    expect(after.upstream).toMatchObject({ protocol: "h2c" });
    await op.pool.update({ id: pool.id, upstream: null });
    expect((await op.pool.list({ clusterId })).find((p) => p.id === pool.id)!.upstream).toBeNull();
  });

  it("explains invalid input per field, in words", async () => {
    const pool = (await op.pool.list({ clusterId }))[0]!;
    const badPort = await failure(op.listener.create({ clusterId, name: "x", port: 0 }));
    expect(badPort.code).toBe("BAD_REQUEST");
    expect(badPort.fieldErrors.port).toMatch(/1 to 65535/);
    const badAddress = await failure(op.backend.create({ poolId: pool.id, address: "300.1.1.1", port: 80 }));
    expect(badAddress.fieldErrors.address).toMatch(/IPv4 address, an IPv6 address or a hostname/);
    const badWeight = await failure(
      op.backend.create({ poolId: pool.id, address: "::1", port: 80, weight: 300 }),
    );
    expect(badWeight.fieldErrors.weight).toMatch(/0 to 256/);
    const badName = await failure(op.pool.create({ clusterId, name: "has space" }));
    expect(badName.fieldErrors.name).toMatch(/letters, digits/);
    const badPolicy = await failure(op.pool.create({ clusterId, name: "p2", policy: "fastest" as "random" }));
    expect(badPolicy.code).toBe("BAD_REQUEST");
  });

  it("refuses duplicates with a CONFLICT naming the field, and changes nothing", async () => {
    const pool = (await op.pool.list({ clusterId }))[0]!;
    const audits = await auditCount();
    const version = await latestVersion();
    const dupPool = await failure(op.pool.create({ clusterId, name: "app" }));
    expect(dupPool.code).toBe("CONFLICT");
    expect(dupPool.fieldErrors.name).toMatch(/already taken/);
    const dupBackend = await failure(op.backend.create({ poolId: pool.id, address: "10.0.0.1", port: 80 }));
    expect(dupBackend.code).toBe("CONFLICT");
    expect(dupBackend.fieldErrors.address).toMatch(/already has a backend/);
    const dupPort = await failure(op.listener.create({ clusterId, name: "web2", port: 8080 }));
    expect(dupPort.code).toBe("CONFLICT");
    expect(dupPort.fieldErrors.port).toMatch(/address and port/);
    expect(await auditCount()).toBe(audits);
    expect(await latestVersion()).toBe(version);
  });

  it("keeps a pool that routes still point at", async () => {
    const pool = (await op.pool.list({ clusterId }))[0]!;
    const err = await failure(op.pool.delete({ id: pool.id }));
    expect(err.code).toBe("CONFLICT");
    expect(err.message).toMatch(/target of 1 route/);
  });

  it("drains a backend through setState and reports NOT_FOUND for unknown ids", async () => {
    const pool = (await op.pool.list({ clusterId }))[0]!;
    const b = pool.backends[0]!;
    const drained = await op.backend.setState({ id: b.id, state: "draining" });
    expect(drained.state).toBe("draining");
    const entry = await c.services.prisma.auditEntry.findFirst({
      where: { targetId: b.id },
      orderBy: { createdAt: "desc" },
    });
    expect(entry?.action).toBe("backend.draining");
    expect((entry!.before as { state: string }).state).toBe("enabled");
    const missing = await failure(
      op.backend.setState({ id: "00000000-0000-4000-8000-000000000000", state: "enabled" }),
    );
    expect(missing.code).toBe("NOT_FOUND");
  });

  it("numbers config versions without gaps under concurrent writers", async () => {
    const pool = await op.pool.create({ clusterId, name: "burst" });
    const before = await latestVersion();
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        op.backend.create({ poolId: pool.id, address: `10.1.0.${i + 1}`, port: 80 }),
      ),
    );
    const versions = await c.services.prisma.configVersion.findMany({
      where: { clusterId, version: { gt: before } },
      orderBy: { version: "asc" },
    });
    expect(versions.map((v) => v.version)).toEqual(Array.from({ length: 8 }, (_, i) => before + i + 1));
    expect(new Set(versions.map((v) => v.hash)).size).toBe(8);
  });
});

describe("pool settings", () => {
  let stack: Stack;
  let c: TestConsole;
  let op: ReturnType<typeof callerAs>;
  let clusterId: string;
  beforeAll(async () => {
    stack = await startStack({ cluster: "s" });
    ({ console: c, operator: op, clusterId } = stack);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("requires a header name for a header-keyed consistent hash, per field", async () => {
    const err = await failure(
      op.pool.create({ clusterId, name: "h", policy: "consistent_hash", policyOptions: { key: "header" } }),
    );
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.fieldErrors["policyOptions.keyName"]).toMatch(/Name the header or cookie/);
  });

  it("compiles failover and limit settings into the snapshot", async () => {
    const pool = await op.pool.create({
      clusterId,
      name: "api",
      policy: "consistent_hash",
      policyOptions: { key: "cookie", keyName: "session", algorithm: "ring" },
      slowStartMs: 20_000,
      retries: { enabled: true, attempts: 2, budgetPercent: 10 },
      limits: { maxConnectionsPerBackend: 50, queueSize: 10, queueTimeoutMs: 1000 },
    });
    await op.backend.create({ poolId: pool.id, address: "10.0.0.9", port: 80, maxConnections: 5 });
    const latest = await c.services.prisma.configVersion.findFirst({
      where: { clusterId },
      orderBy: { version: "desc" },
    });
    const snap = latest!.snapshot as {
      pools: Array<Record<string, unknown> & { backends: Array<Record<string, unknown>> }>;
    };
    expect(snap.pools[0]).toMatchObject({
      policyOptions: { key: "cookie", keyName: "session", algorithm: "ring" },
      slowStartMs: 20_000,
      retries: { attempts: 2, budgetPercent: 10 },
      limits: { maxConnectionsPerBackend: 50, queueSize: 10, queueTimeoutMs: 1000 },
      outlierDetection: { enabled: true, consecutiveFailures: 5 },
    });
    expect(snap.pools[0]!.backends[0]).toMatchObject({ maxConnections: 5 });
  });

  it("compiles a listener's keep-alive timeout, keeps the other timeouts on update, and refuses 0 per field", async () => {
    const l = await op.listener.create({
      clusterId,
      name: "keepalive",
      port: 8090,
      settings: { timeouts: { keepAliveMs: 120_000 } },
    });
    const compiled = async () => {
      const v = await c.services.prisma.configVersion.findFirst({
        where: { clusterId },
        orderBy: { version: "desc" },
      });
      const snap = v!.snapshot as {
        listeners: Array<{ id: string; settings: { timeouts: Record<string, number> } }>;
      };
      return snap.listeners.find((x) => x.id === l.id)!.settings.timeouts;
    };
    expect(await compiled()).toMatchObject({ keepAliveMs: 120_000, idleMs: 60_000, headMs: 10_000 });
    const bad = await failure(op.listener.update({ id: l.id, settings: { timeouts: { keepAliveMs: 0 } } }));
    expect(bad.fieldErrors["settings.timeouts.keepAliveMs"]).toBeDefined();
    expect(await compiled()).toMatchObject({ keepAliveMs: 120_000 });
  });
});

describe("config history: diff and rollback", () => {
  let stack: Stack;
  let c: TestConsole;
  let op: ReturnType<typeof callerAs>;
  let clusterId: string;
  beforeAll(async () => {
    stack = await startStack({ cluster: "h" });
    ({ console: c, operator: op, clusterId } = stack);
  });
  afterAll(async () => {
    await stack?.close();
  });

  const latest = () =>
    c.services.prisma.configVersion.findFirst({ where: { clusterId }, orderBy: { version: "desc" } });

  it("shows what each version changed, and rolls back by adding a version equal to the old one", async () => {
    const listener = await op.listener.create({ clusterId, name: "web", port: 8080 });
    const pool = await op.pool.create({ clusterId, name: "app" });
    const b1 = await op.backend.create({ poolId: pool.id, name: "one", address: "10.0.0.1", port: 80 });
    await op.route.create({ listenerId: listener.id, poolId: pool.id });
    const good = (await latest())!;

    // A bad afternoon: a backend drained, another added, the listener moved, the route deleted.
    await op.backend.setState({ id: b1.id, state: "draining" });
    const diff = await op.config.diff({ clusterId, version: good.version + 1 });
    expect(diff).toEqual([
      {
        change: "changed",
        object: "backend one 10.0.0.1:80 in pool app",
        field: "state",
        before: "enabled",
        after: "draining",
      },
    ]);
    await op.backend.create({ poolId: pool.id, address: "10.0.0.2", port: 80 });
    await op.listener.update({ id: listener.id, port: 9090 });
    const route = (await op.listener.list({ clusterId }))[0]!.routes[0]!;
    await op.route.delete({ id: route.id });

    const result = await op.config.rollback({ clusterId, version: good.version });
    const now = (await latest())!;
    expect(result).toEqual({ version: now.version, restoredFrom: good.version });
    expect(now.version).toBe(good.version + 5);
    expect(now.hash).toBe(good.hash);
    const listeners = await op.listener.list({ clusterId });
    expect(listeners.map((l) => [l.port, l.routes.length])).toEqual([[8080, 1]]);
    const pools = await op.pool.list({ clusterId });
    expect(pools[0]!.backends.map((b) => [b.address, b.state])).toEqual([["10.0.0.1", "enabled"]]);
    const audit = await c.services.prisma.auditEntry.findFirst({ where: { action: "config.rollback" } });
    expect(audit?.after).toEqual({ restoredVersion: good.version });

    // Rolling back to what already runs changes nothing and says so.
    await expect(op.config.rollback({ clusterId, version: good.version })).rejects.toThrow(/already equals/);
  });
});
