import { promises as dns } from "node:dns";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NamedBackend } from "./support/backends";
import { actors, callerAs, freePort, type TestConsole, waitFor } from "./support/console";
import { type Stack, startStack } from "./support/stack";

/** Console → real agent process: a DNS listener and a redirect route configured through the API serve real clients. */
describe("DNS and redirect balancing through a real agent", () => {
  let stack: Stack;
  let c: TestConsole;
  let backends: NamedBackend[];
  let dnsPort: number;
  let httpPort: number;
  let clusterId: string;
  const edgeBackendIds: string[] = [];
  const mirrorBackendIds: string[] = [];

  beforeAll(async () => {
    stack = await startStack({ cluster: "edge", backends: ["alpha", "bravo"] });
    ({ console: c, clusterId, backends } = stack);
    const op = stack.operator;
    dnsPort = await freePort();
    httpPort = await freePort();

    const edge = await op.pool.create({ clusterId, name: "edge" });
    for (const address of ["192.0.2.10", "192.0.2.11"]) {
      edgeBackendIds.push((await op.backend.create({ poolId: edge.id, address, port: 443 })).id);
    }
    const gslb = await op.listener.create({
      clusterId,
      name: "gslb",
      protocol: "dns",
      bindAddress: "127.0.0.1",
      port: dnsPort,
      settings: { ttlSeconds: 3 },
    });
    await op.route.create({ listenerId: gslb.id, poolId: edge.id, host: "www.example.com" });

    const mirrors = await op.pool.create({ clusterId, name: "mirrors" });
    for (const b of backends) {
      const created = await op.backend.create({
        poolId: mirrors.id,
        name: b.name,
        address: "127.0.0.1",
        port: b.port,
        publicBaseUrl: `http://127.0.0.1:${b.port}`,
      });
      mirrorBackendIds.push(created.id);
    }
    const web = await op.listener.create({
      clusterId,
      name: "downloads",
      bindAddress: "127.0.0.1",
      port: httpPort,
    });
    await op.route.create({
      listenerId: web.id,
      poolId: mirrors.id,
      pathPrefix: "/files",
      action: "redirect",
    });

    await stack.enroll("edge-1");
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("answers DNS queries with the pool's addresses and the configured TTL", async () => {
    const resolver = new dns.Resolver({ timeout: 500, tries: 1 });
    resolver.setServers([`127.0.0.1:${dnsPort}`]);
    const first = await waitFor("the agent to answer DNS", () =>
      resolver.resolve4("www.example.com", { ttl: true }).catch(() => undefined),
    );
    expect(first).toHaveLength(1);
    expect(first[0]!.ttl).toBe(3);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) for (const a of await resolver.resolve4("www.example.com")) seen.add(a);
    expect(seen).toEqual(new Set(["192.0.2.10", "192.0.2.11"]));
  });

  it("redirects downloads to the mirrors, which clients following redirects reach", async () => {
    const names: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`http://127.0.0.1:${httpPort}/files/big.iso`, { redirect: "follow" });
      expect(r.redirected).toBe(true);
      names.push(await r.text());
    }
    expect(new Set(names)).toEqual(new Set(["alpha", "bravo"]));
  });

  it("the per-backend live series count DNS answers and redirects as requests (queries/s, redirects/s)", async () => {
    const viewer = callerAs(c, actors.viewer);
    const sum = async (id: string, field: "rps" | "s3xx") => {
      const s = await viewer.metrics.series({ clusterId, scope: "backend", id, range: "5m" });
      return s.points.reduce((n, p) => n + (p[field] ?? 0), 0);
    };
    for (const id of edgeBackendIds)
      await waitFor("DNS answers in the backend series", async () => (await sum(id, "rps")) > 0);
    for (const id of mirrorBackendIds) {
      await waitFor("redirects in the backend series", async () => (await sum(id, "s3xx")) > 0);
    }
  });
});
