import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type callerAs, failure, type TestConsole } from "./support/console";
import { type Stack, startStack } from "./support/stack";

interface Snap {
  listeners: Array<{
    name: string;
    protocol: string;
    settings: Record<string, unknown>;
    routes: Array<{ host: string; action: string; redirect?: { status: number; loopGuard: string } }>;
  }>;
  pools: Array<{
    name: string;
    backends: Array<{ publicBaseUrl: string | null; state: string; weight: number }>;
  }>;
}

describe("DNS listeners and redirect routes through the API", () => {
  let stack: Stack;
  let c: TestConsole;
  let op: ReturnType<typeof callerAs>;
  let clusterId: string;

  beforeAll(async () => {
    stack = await startStack({ cluster: "edge" });
    ({ console: c, operator: op, clusterId } = stack);
  });
  afterAll(async () => {
    await stack?.close();
  });

  const latestSnapshot = async () =>
    (await c.services.prisma.configVersion.findFirst({ where: { clusterId }, orderBy: { version: "desc" } }))!
      .snapshot as unknown as Snap;

  it("a dns listener with names as routes compiles into the snapshot with its own settings", async () => {
    const pool = await op.pool.create({ clusterId, name: "edge", policy: "weighted_round_robin" });
    await op.backend.create({ poolId: pool.id, address: "192.0.2.10", port: 443 });
    const dns = await op.listener.create({
      clusterId,
      name: "gslb",
      protocol: "dns",
      port: 5353,
      settings: { ttlSeconds: 5, maxAnswers: 2, transport: "udp" },
    });
    await op.route.create({ listenerId: dns.id, poolId: pool.id, host: "WWW.Example.com." });
    await op.route.create({ listenerId: dns.id, poolId: pool.id, host: "*.cdn.example.com" });
    const l = (await latestSnapshot()).listeners.find((x) => x.name === "gslb")!;
    expect(l.protocol).toBe("dns");
    expect(l.settings).toEqual({
      ttlSeconds: 5,
      maxAnswers: 2,
      transport: "udp",
      maxConnections: 1000,
      tcpIdleMs: 10_000,
    });
    expect(l.routes.map((r) => r.host).sort()).toEqual(["*.cdn.example.com", "www.example.com"]);
  });

  it("refuses bad DNS settings and routes with per-field messages", async () => {
    const pool = (await op.pool.list({ clusterId })).find((p) => p.name === "edge")!;
    const badTtl = await failure(
      op.listener.create({
        clusterId,
        name: "bad",
        protocol: "dns",
        port: 5454,
        settings: { ttlSeconds: 3600 },
      }),
    );
    expect(badTtl.fieldErrors["settings.ttlSeconds"]).toMatch(/0 to 300 seconds/);
    const dns = (await op.listener.list({ clusterId })).find((l) => l.name === "gslb")!;
    const badUpdate = await failure(op.listener.update({ id: dns.id, settings: { maxAnswers: 99 } }));
    expect(badUpdate.fieldErrors["settings.maxAnswers"]).toMatch(/1 to 16/);
    const noName = await failure(op.route.create({ listenerId: dns.id, poolId: pool.id, host: "" }));
    expect(noName.fieldErrors.host).toMatch(/answers for a name/);
    const redirectOnDns = await failure(
      op.route.create({ listenerId: dns.id, poolId: pool.id, host: "a.example.com", action: "redirect" }),
    );
    expect(redirectOnDns.fieldErrors.action).toMatch(/redirect is for HTTP/);
    const toHttp = await failure(op.listener.update({ id: dns.id, protocol: "http" }));
    expect(toHttp.fieldErrors.protocol).toMatch(/Remove this listener's routes/);
  });

  it("a redirect route needs public base URLs on its pool's backends, and compiles with its options", async () => {
    const mirrors = await op.pool.create({ clusterId, name: "mirrors" });
    const m1 = await op.backend.create({
      poolId: mirrors.id,
      address: "10.0.1.1",
      port: 80,
      name: "mirror-1",
    });
    const web = await op.listener.create({ clusterId, name: "downloads", port: 8080 });
    const missing = await failure(
      op.route.create({ listenerId: web.id, poolId: mirrors.id, pathPrefix: "/files", action: "redirect" }),
    );
    expect(missing.fieldErrors.poolId).toMatch(/mirror-1/);

    const badUrl = await failure(
      op.backend.update({ id: m1.id, publicBaseUrl: "ftp://mirror1.example.net" }),
    );
    expect(badUrl.fieldErrors.publicBaseUrl).toMatch(/http:\/\/ or https:\/\//);
    await op.backend.update({ id: m1.id, publicBaseUrl: "https://mirror1.example.net/pub" });
    await op.route.create({
      listenerId: web.id,
      poolId: mirrors.id,
      pathPrefix: "/files",
      action: "redirect",
      redirect: { status: 307, loopGuard: "mirrored" },
    });
    const snap = await latestSnapshot();
    const route = snap.listeners.find((l) => l.name === "downloads")!.routes[0]!;
    expect(route).toMatchObject({ action: "redirect", redirect: { status: 307, loopGuard: "mirrored" } });
    expect(snap.pools.find((p) => p.name === "mirrors")!.backends[0]!.publicBaseUrl).toBe(
      "https://mirror1.example.net/pub",
    );

    // An update changes only what it names: draining keeps the URL and the weight.
    await op.backend.update({ id: m1.id, weight: 7 });
    await op.backend.update({ id: m1.id, state: "draining" });
    const drained = (await latestSnapshot()).pools.find((p) => p.name === "mirrors")!.backends[0]!;
    expect(drained).toMatchObject({
      state: "draining",
      weight: 7,
      publicBaseUrl: "https://mirror1.example.net/pub",
    });

    // A new backend without a URL would break the redirect: refused, saying where.
    const noUrl = await failure(op.backend.create({ poolId: mirrors.id, address: "10.0.1.2", port: 80 }));
    expect(noUrl.fieldErrors.publicBaseUrl).toMatch(/public base URL/);
    const wildcard = await failure(
      op.route.create({ listenerId: web.id, poolId: mirrors.id, host: "*.example.com" }),
    );
    expect(wildcard.fieldErrors.host).toMatch(/Wildcard names are for DNS listeners/);
    const badStatus = await failure(
      op.route.create({
        listenerId: web.id,
        poolId: mirrors.id,
        pathPrefix: "/x",
        action: "redirect",
        redirect: { status: 301 as 302 },
      }),
    );
    expect(badStatus.fieldErrors["redirect.status"]).toMatch(/302 or 307/);
  });

  it("rollback restores redirect routes, their options and public base URLs", async () => {
    const before = (await c.services.prisma.configVersion.findFirst({
      where: { clusterId },
      orderBy: { version: "desc" },
    }))!;
    const route = await c.services.prisma.route.findFirstOrThrow({ where: { action: "redirect" } });
    await op.route.delete({ id: route.id });
    await op.config.rollback({ clusterId, version: before.version });
    const restored = await c.services.prisma.route.findUniqueOrThrow({ where: { id: route.id } });
    expect(restored.action).toBe("redirect");
    expect(restored.redirect).toMatchObject({ status: 307, loopGuard: "mirrored" });
    const latest = (await c.services.prisma.configVersion.findFirst({
      where: { clusterId },
      orderBy: { version: "desc" },
    }))!;
    expect(latest.hash).toBe(before.hash);
  });
});
