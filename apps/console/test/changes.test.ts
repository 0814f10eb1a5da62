import nodeHttp from "node:http";
import net from "node:net";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../src/server/domain/actor";
import type { ChangePreview } from "../src/server/domain/changes/types";
import { poolBackendKey } from "../src/server/metrics/aggregate";
import { get, type NamedBackend } from "./support/backends";
import { actors, callerAs, enrollAgent, freePort, type TestConsole, waitFor } from "./support/console";
import { type Stack, startStack } from "./support/stack";
import { httpCaller } from "./support/trpc-http";

type Backend = NamedBackend;

/** A TCP backend that accepts connections and keeps them open until closed: something to drain. */
async function startHoldingBackend() {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    s.on("error", () => {});
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("error", () => {});
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

async function bodies(port: number, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await get(port);
    out.push(r.status === 200 ? r.body : String(r.status));
  }
  return out;
}

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return "OK";
  } catch (err) {
    return err instanceof TRPCError ? err.code : String(err);
  }
};

describe("moves, bulk actions, dry run and rollout (real console, agent and backends)", () => {
  let stack: Stack;
  let c: TestConsole;
  let op: ReturnType<typeof callerAs>;
  let http: Backend[];
  let hold: Awaited<ReturnType<typeof startHoldingBackend>>;
  let clusterId: string;
  let blue: string;
  let green: string;
  let webPort: number;
  let greenPort: number;
  let tcpPort: number;
  const ids: Record<string, string> = {};

  const latestVersion = () => stack.latestVersion();
  const auditCount = () => c.services.prisma.auditEntry.count();
  const rolledOut = (version: number) => stack.rolledOut(version);

  beforeAll(async () => {
    stack = await startStack({ cluster: "edge", backends: ["alpha", "bravo", "charlie"] });
    ({ console: c, operator: op, clusterId, backends: http } = stack);
    hold = await startHoldingBackend();
    [webPort, greenPort, tcpPort] = [await freePort(), await freePort(), await freePort()];
    blue = (await op.pool.create({ clusterId, name: "blue" })).id;
    green = (
      await op.pool.create({ clusterId, name: "green", policy: "weighted_round_robin", slowStartMs: 0 })
    ).id;
    const tcpPool = (await op.pool.create({ clusterId, name: "held" })).id;
    for (const [b, pool] of [
      [http[0]!, blue],
      [http[1]!, blue],
      [http[2]!, green],
    ] as const) {
      ids[b.name] = (
        await op.backend.create({ poolId: pool, name: b.name, address: "127.0.0.1", port: b.port })
      ).id;
    }
    ids.held = (
      await op.backend.create({ poolId: tcpPool, name: "held", address: "127.0.0.1", port: hold.port })
    ).id;
    for (const [name, port, pool, protocol] of [
      ["web", webPort, blue, "http"],
      ["web-green", greenPort, green, "http"],
      ["raw", tcpPort, tcpPool, "tcp"],
    ] as const) {
      const l = await op.listener.create({ clusterId, name, bindAddress: "127.0.0.1", port, protocol });
      await op.route.create({ listenerId: l.id, poolId: pool });
    }

    await stack.enroll("edge-1");
    await rolledOut((await latestVersion())!);
    await waitFor("the agent to serve", async () => (await get(webPort)).status === 200);
  });

  afterAll(async () => {
    await stack?.close();
    await hold?.close();
  });

  it("moves a backend to another pool: traffic follows, one version, one audit entry; moving back undoes it", async () => {
    const v0 = (await latestVersion())!;
    const audits = await auditCount();
    const moved = await op.backend.move({ moves: [{ id: ids.bravo!, poolId: green }] });
    expect(moved.version).toBe(v0 + 1);
    expect(moved.backends).toMatchObject([{ id: ids.bravo, poolId: green }]);
    expect(await latestVersion()).toBe(v0 + 1);
    const entries = await c.services.prisma.auditEntry.findMany({ where: { action: "backend.move" } });
    expect(await auditCount()).toBe(audits + 1);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ targetId: ids.bravo, clusterId });
    expect(entries[0]!.before).toMatchObject({ poolId: blue, poolName: "blue" });
    expect(entries[0]!.after).toMatchObject({ poolId: green, poolName: "green" });

    await rolledOut(moved.version!);
    expect(new Set(await bodies(webPort, 6))).toEqual(new Set(["alpha"]));
    expect(new Set(await bodies(greenPort, 6))).toEqual(new Set(["bravo", "charlie"]));

    const undo = await op.backend.move({ moves: [{ id: ids.bravo!, poolId: blue }] });
    expect(undo.version).toBe(v0 + 2);
    await rolledOut(undo.version!);
    expect(new Set(await bodies(webPort, 6))).toEqual(new Set(["alpha", "bravo"]));
    expect(new Set(await bodies(greenPort, 6))).toEqual(new Set(["charlie"]));
  });

  it("moves several selected backends in one version, and back", async () => {
    const v0 = (await latestVersion())!;
    const moved = await op.backend.move({
      moves: [
        { id: ids.alpha!, poolId: green },
        { id: ids.bravo!, poolId: green },
      ],
    });
    expect(moved.version).toBe(v0 + 1);
    expect(await c.services.prisma.auditEntry.count({ where: { action: "backend.move" } })).toBe(4);
    await rolledOut(moved.version!);
    expect(new Set(await bodies(greenPort, 9))).toEqual(new Set(["alpha", "bravo", "charlie"]));
    expect(new Set(await bodies(webPort, 3))).toEqual(new Set(["503"]));

    const undo = await op.backend.move({
      moves: [
        { id: ids.alpha!, poolId: blue },
        { id: ids.bravo!, poolId: blue },
      ],
    });
    expect(undo.version).toBe(v0 + 2);
    await rolledOut(undo.version!);
    expect(new Set(await bodies(webPort, 6))).toEqual(new Set(["alpha", "bravo"]));
  });

  it("refuses a move onto a pool that already has the address:port, naming it, and changes nothing", async () => {
    const copy = await op.backend.create({
      poolId: green,
      name: "alpha-copy",
      address: "127.0.0.1",
      port: http[0]!.port,
    });
    const v0 = await latestVersion();
    const audits = await auditCount();
    const err = await op.backend
      .move({
        moves: [
          { id: ids.bravo!, poolId: green },
          { id: ids.alpha!, poolId: green },
        ],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCError);
    expect((err as TRPCError).code).toBe("CONFLICT");
    expect((err as TRPCError).message).toMatch(/Pool green already has a backend at alpha-copy/);
    expect(await latestVersion()).toBe(v0);
    expect(await auditCount()).toBe(audits);
    const rows = await c.services.prisma.backend.findMany({
      where: { id: { in: [ids.alpha!, ids.bravo!] } },
    });
    expect(rows.map((r) => r.poolId)).toEqual([blue, blue]);

    // Other refusals: a pool of another cluster, an unknown backend, the same backend twice.
    const other = await op.cluster.create({ name: "elsewhere" });
    const otherPool = await op.pool.create({ clusterId: other.id, name: "far" });
    expect(await codeOf(op.backend.move({ moves: [{ id: ids.alpha!, poolId: otherPool.id }] }))).toBe(
      "BAD_REQUEST",
    );
    expect(
      await codeOf(
        op.backend.move({ moves: [{ id: "00000000-0000-4000-8000-000000000000", poolId: green }] }),
      ),
    ).toBe("NOT_FOUND");
    expect(
      await codeOf(
        op.backend.move({
          moves: [
            { id: ids.alpha!, poolId: green },
            { id: ids.alpha!, poolId: blue },
          ],
        }),
      ),
    ).toBe("BAD_REQUEST");
    expect(await latestVersion()).toBe(v0);
    await op.backend.delete({ id: copy.id });
  });

  it("drains, enables and re-weights several backends in one version each", async () => {
    const v0 = (await latestVersion())!;
    const drained = await op.backend.bulkSetState({ ids: [ids.alpha!, ids.bravo!], state: "draining" });
    expect(drained.version).toBe(v0 + 1);
    expect(drained.backends.map((b) => b.state)).toEqual(["draining", "draining"]);
    expect(await c.services.prisma.auditEntry.count({ where: { action: "backend.draining" } })).toBe(2);
    await rolledOut(drained.version!);
    expect(new Set(await bodies(webPort, 3))).toEqual(new Set(["503"]));

    const enabled = await op.backend.bulkSetState({ ids: [ids.alpha!, ids.bravo!], state: "enabled" });
    expect(enabled.version).toBe(v0 + 2);
    await rolledOut(enabled.version!);
    expect(new Set(await bodies(webPort, 6))).toEqual(new Set(["alpha", "bravo"]));

    const weighted = await op.backend.bulkSetWeight({ ids: [ids.alpha!, ids.bravo!], weight: 7 });
    expect(weighted.version).toBe(v0 + 3);
    expect(weighted.backends.map((b) => b.weight)).toEqual([7, 7]);
    // The same weight again compiles to the running snapshot: no new version, no audit entry.
    const audits = await auditCount();
    expect((await op.backend.bulkSetWeight({ ids: [ids.alpha!, ids.bravo!], weight: 7 })).version).toBeNull();
    expect(await auditCount()).toBe(audits);
    expect(await codeOf(op.backend.bulkSetWeight({ ids: [ids.alpha!], weight: 300 }))).toBe("BAD_REQUEST");
    await op.backend.bulkSetWeight({ ids: [ids.alpha!, ids.bravo!], weight: 100 });
  });

  it("previews a move without changing anything: diff, agents, shares and live rates", async () => {
    const v0 = await latestVersion();
    await rolledOut(v0!);
    const audits = await auditCount();
    // Live traffic on pool blue for the rates.
    let stop = false;
    const load = (async () => {
      while (!stop) await get(webPort);
    })();
    try {
      // Each backend's own rate in blue, not only the pool's: the pool's 10 s window may
      // still hold the previous test's 503s, answered while both backends drained.
      const rateIn = (id: string) =>
        c.services.metrics.recentRps(clusterId, "pool_backend", poolBackendKey(blue, id));
      await waitFor(
        "live rates",
        () =>
          c.services.metrics.recentRps(clusterId, "pool", blue) > 1 &&
          rateIn(ids.alpha!) > 0 &&
          rateIn(ids.bravo!) > 0,
        20_000,
      );
      const preview = await op.change.preview({
        kind: "backend.move",
        input: { moves: [{ id: ids.bravo!, poolId: green }] },
      });
      expect(preview.changed).toBe(true);
      expect(preview.currentVersion).toBe(v0);
      expect(preview.diff).toContainEqual(
        expect.objectContaining({ change: "changed", field: "pool", before: "blue", after: "green" }),
      );
      // appliedVersion may be an older number with the same content (see rollout.ts).
      expect(preview.agents).toEqual([expect.objectContaining({ name: "edge-1", connected: true })]);
      const pool = (name: string) => preview.pools.find((p) => p.name === name)!;
      const backend = (p: ChangePreview["pools"][number], name: string) =>
        p.backends.find((b) => b.name === name)!;
      expect(preview.pools.map((p) => p.name)).toEqual(["blue", "green"]);
      expect(backend(pool("blue"), "alpha")).toMatchObject({
        membership: "stays",
        shareBefore: 0.5,
        shareAfter: 1,
      });
      expect(backend(pool("blue"), "bravo")).toMatchObject({
        membership: "leaves",
        shareBefore: 0.5,
        shareAfter: 0,
      });
      expect(backend(pool("green"), "bravo")).toMatchObject({
        membership: "joins",
        shareBefore: 0,
        shareAfter: 0.5,
      });
      expect(backend(pool("green"), "charlie")).toMatchObject({ shareBefore: 1, shareAfter: 0.5 });
      expect(pool("green")).toMatchObject({
        slowStartMs: 0,
        hashKeysMovedShare: null,
        policy: "weighted_round_robin",
      });
      const b = pool("blue");
      expect(b.rpsNow).toBeGreaterThan(0);
      expect(backend(b, "alpha").rpsNow).toBeGreaterThan(0);
      expect(backend(b, "bravo").rpsNow).toBeGreaterThan(0);
      // All of blue's current rate goes to alpha afterwards.
      expect(backend(b, "alpha").rpsAfter).toBeCloseTo(b.rpsNow, 1);
    } finally {
      stop = true;
      await load;
    }
    // Nothing happened: no version, no audit entry, the backend is where it was, the agent has nothing new.
    expect(await latestVersion()).toBe(v0);
    expect(await auditCount()).toBe(audits);
    expect((await c.services.prisma.backend.findUnique({ where: { id: ids.bravo! } }))?.poolId).toBe(blue);
    const rollout = await op.change.rollout({ clusterId, version: v0! });
    expect(rollout.agents.map((a) => a.state)).toEqual(["applied"]);
    expect(new Set(await bodies(webPort, 6))).toEqual(new Set(["alpha", "bravo"]));
  });

  it("a preview fails exactly like the change would (field errors, conflicts, not found)", async () => {
    const bad = {
      clusterId,
      name: "no spaces allowed",
      policy: "consistent_hash" as const,
      policyOptions: { key: "header" },
    };
    const errorOf = async (p: Promise<unknown>) => {
      try {
        await p;
        return null;
      } catch (e) {
        return e as TRPCError;
      }
    };
    const real = await errorOf(op.pool.create(bad));
    const dry = await errorOf(op.change.preview({ kind: "pool.create", input: bad }));
    expect(real?.code).toBe("BAD_REQUEST");
    expect(dry?.code).toBe("BAD_REQUEST");
    expect(JSON.stringify(dry?.cause)).toBe(JSON.stringify(real?.cause));
    expect(
      await codeOf(
        op.change.preview({ kind: "backend.delete", input: { id: "00000000-0000-4000-8000-000000000000" } }),
      ),
    ).toBe("NOT_FOUND");
    const copy = await op.backend.create({ poolId: green, address: "127.0.0.1", port: http[0]!.port });
    const conflict = await errorOf(
      op.change.preview({ kind: "backend.move", input: { moves: [{ id: ids.alpha!, poolId: green }] } }),
    );
    expect(conflict?.code).toBe("CONFLICT");
    expect(conflict?.message).toMatch(/Pool green already has a backend/);
    await op.backend.delete({ id: copy.id });
    // A change to what is already running: nothing to push.
    const same = await op.change.preview({
      kind: "backend.setWeight",
      input: { ids: [ids.alpha!], weight: 100 },
    });
    expect(same).toMatchObject({ changed: false, diff: [], pools: [] });
  });

  it("previews every kind of change the console makes", async () => {
    const v0 = await latestVersion();
    const listener = (await op.listener.list({ clusterId })).find((l) => l.name === "web")!;
    const route = listener.routes[0]!;
    const kinds = [
      { kind: "backend.create", input: { poolId: blue, address: "127.0.0.1", port: 1 } },
      { kind: "backend.update", input: { id: ids.alpha!, weight: 3 } },
      { kind: "backend.delete", input: { id: ids.alpha! } },
      { kind: "backend.setState", input: { ids: [ids.alpha!], state: "disabled" } },
      { kind: "pool.create", input: { clusterId, name: "fresh" } },
      { kind: "pool.update", input: { id: blue, policy: "random" } },
      { kind: "pool.delete", input: { id: (await op.pool.create({ clusterId, name: "spare" })).id } },
      { kind: "listener.create", input: { clusterId, name: "more", bindAddress: "127.0.0.1", port: 1 } },
      { kind: "listener.update", input: { id: listener.id, name: "web2" } },
      { kind: "listener.delete", input: { id: listener.id } },
      { kind: "route.create", input: { listenerId: listener.id, pathPrefix: "/x", poolId: green } },
      { kind: "route.update", input: { id: route.id, poolId: green } },
      { kind: "route.delete", input: { id: route.id } },
      { kind: "config.rollback", input: { clusterId, version: 1 } },
    ] as const;
    const v1 = await latestVersion();
    for (const k of kinds) {
      const p = await op.change.preview(k as Parameters<typeof op.change.preview>[0]);
      expect(p.changed, k.kind).toBe(true);
      expect(p.diff.length, k.kind).toBeGreaterThan(0);
    }
    expect(v1).toBe((v0 ?? 0) + 1); // only the "spare" pool was really created
    expect(await latestVersion()).toBe(v1);
    const routeMove = await op.change.preview({
      kind: "route.update",
      input: { id: route.id, poolId: green },
    });
    expect(routeMove.diff).toContainEqual(
      expect.objectContaining({ field: "pool", before: "blue", after: "green" }),
    );
    const deleted = await op.change.preview({ kind: "backend.delete", input: { id: ids.alpha! } });
    expect(deleted.pools[0]!.backends.find((b) => b.name === "alpha")).toMatchObject({
      membership: "leaves",
    });
  });

  it("estimates the share of hash keys that move, for consistent_hash and source_ip_hash pools", async () => {
    for (const [policy, policyOptions] of [
      ["consistent_hash", { key: "path", algorithm: "maglev" }],
      ["consistent_hash", { key: "path", algorithm: "ring" }],
      ["source_ip_hash", {}],
    ] as const) {
      const pool = await op.pool.create({
        clusterId,
        name: `hash-${policy}-${Object.values(policyOptions).join("")}`,
        policy,
        policyOptions,
      });
      for (let i = 0; i < 4; i++)
        await op.backend.create({ poolId: pool.id, address: `10.0.0.${i + 1}`, port: 80 });
      const add = await op.change.preview({
        kind: "backend.create",
        input: { poolId: pool.id, address: "10.0.0.9", port: 80 },
      });
      const effect = add.pools.find((p) => p.poolId === pool.id)!;
      // One backend of five takes about a fifth of the keys; a good hash moves little more than that.
      expect(effect.hashKeysMovedShare, policy).toBeGreaterThan(0.12);
      expect(effect.hashKeysMovedShare, policy).toBeLessThan(0.3);
      const joined = effect.backends.find((b) => b.membership === "joins")!;
      // Keys that move mostly go to the new backend (Maglev also reshuffles a few among the others).
      expect(joined.shareAfter, policy).toBeLessThanOrEqual(effect.hashKeysMovedShare!);
      expect(effect.hashKeysMovedShare! - joined.shareAfter, policy).toBeLessThan(0.03);
    }
    const rr = await op.change.preview({
      kind: "backend.create",
      input: { poolId: blue, address: "10.0.0.9", port: 80 },
    });
    expect(rr.pools[0]!.hashKeysMovedShare).toBeNull();
  });

  it("counts connections that must drain and sticky sessions that will be re-pinned, from the agent's gauges", async () => {
    const v0 = (await latestVersion())!;
    // One open TCP connection through the agent to the held backend.
    const client = net.connect(tcpPort, "127.0.0.1");
    client.on("error", () => {});
    await new Promise((r) => client.once("connect", r));
    try {
      await waitFor(
        "the connection gauge",
        () => c.services.metrics.backendGauges(ids.held!).activeConnections === 1,
        20_000,
      );
      const drain = await op.change.preview({
        kind: "backend.setState",
        input: { ids: [ids.held!], state: "draining" },
      });
      expect(drain.totals.connectionsToDrain).toBe(1);
      expect(drain.pools[0]).toMatchObject({ name: "held", connectionsToDrain: 1 });
      const weight = await op.change.preview({
        kind: "backend.setWeight",
        input: { ids: [ids.held!], weight: 5 },
      });
      expect(weight.totals.connectionsToDrain).toBe(0);
    } finally {
      client.destroy();
    }

    // Source-IP persistence on blue: this test's requests all come from 127.0.0.1, one session.
    const sticky = await op.pool.update({ id: blue, persistence: { type: "source_ip", ttlSeconds: 600 } });
    expect(sticky.id).toBe(blue);
    await rolledOut(v0 + 1);
    const first = (await get(webPort)).body;
    const pinned = ids[first]!;
    expect(new Set(await bodies(webPort, 4))).toEqual(new Set([first]));
    await waitFor(
      "the sticky gauge",
      () => c.services.metrics.backendGauges(pinned).stickySessions === 1,
      20_000,
    );
    const other = pinned === ids.alpha ? ids.bravo! : ids.alpha!;
    const repin = await op.change.preview({
      kind: "backend.setState",
      input: { ids: [pinned], state: "disabled" },
    });
    expect(repin.totals.stickySessionsRepinned).toBe(1);
    const noRepin = await op.change.preview({
      kind: "backend.setState",
      input: { ids: [other], state: "disabled" },
    });
    expect(noRepin.totals.stickySessionsRepinned).toBe(0);
    const away = await op.change.preview({
      kind: "backend.move",
      input: { moves: [{ id: pinned, poolId: green }] },
    });
    expect(away.pools.find((p) => p.name === "blue")?.stickySessionsRepinned).toBe(1);

    // Cookie persistence: the agent counts the client IPs it saw with each backend's cookie.
    const cookie = await op.pool.update({ id: blue, persistence: { type: "cookie", ttlSeconds: 600 } });
    const cookieVersion = (await latestVersion())!;
    expect(cookie.id).toBe(blue);
    await rolledOut(cookieVersion);
    const served = (await get(webPort)).body;
    await waitFor(
      "the cookie session gauge",
      () =>
        c.services.metrics.backendGauges(ids[served]!).stickySessions === 1 &&
        c.services.metrics.backendGauges(ids[served === "alpha" ? "bravo" : "alpha"]!).stickySessions === 0,
      20_000,
    );
    const off = await op.change.preview({
      kind: "pool.update",
      input: { id: blue, persistence: { type: "none" } },
    });
    expect(off.totals.stickySessionsRepinned).toBe(1);
    await op.pool.update({ id: blue, persistence: { type: "none" } });
  });

  it("reports the rollout per agent: applied, rejected (NACK with its reason) and offline", async () => {
    // A second agent on the same host cannot bind the listeners the first one holds: it refuses the snapshot.
    const { agent: second } = await enrollAgent(c, clusterId, "edge-2");
    try {
      const v = (await latestVersion())!;
      const r = await waitFor("edge-2 to refuse", async () => {
        const r = await op.change.rollout({ clusterId, version: v });
        return r.agents.find((a) => a.name === "edge-2")?.state === "rejected" ? r : undefined;
      });
      expect(r.agents.find((a) => a.name === "edge-1")).toMatchObject({
        state: "applied",
        connected: true,
        error: null,
      });
      expect(r.agents.find((a) => a.name === "edge-2")).toMatchObject({ connected: true });
      expect(r.agents.find((a) => a.name === "edge-2")?.error).toMatch(
        new RegExp(`^v${v}: .*(in use|EADDRINUSE)`, "i"),
      );
      expect(r.settled).toBe(true);
    } finally {
      await second.stop();
    }
    const edge2 = (await c.services.prisma.agent.findFirst({ where: { name: "edge-2" } }))!;
    await waitFor("edge-2 to be disconnected", () => !c.services.gateway.connectedAgentIds().has(edge2.id));
    const next = await op.backend.bulkSetWeight({ ids: [ids.alpha!], weight: 50 });
    const r = await rolledOut(next.version!);
    expect(r.agents.find((a) => a.name === "edge-2")).toMatchObject({ state: "offline", connected: false });
    expect(r.agents.find((a) => a.name === "edge-1")).toMatchObject({ state: "applied" });
    await callerAs(c, actors.admin).agent.delete({ id: edge2.id });
  });

  it("refuses every new mutation and the preview to a viewer's API token over HTTP; the viewer may read the rollout", async () => {
    const admin = await c.services.prisma.user.create({
      data: { id: "changes-admin", name: "changes-admin", email: "changes-admin@example.com", role: "admin" },
    });
    const adminActor: Actor = { kind: "user", id: admin.id, name: admin.name, role: "admin" };
    const token = await callerAs(c, adminActor).token.create({ name: "viewer", role: "viewer" });
    const viewer = httpCaller(c.url, { authorization: `Bearer ${token.secret}` });
    const v0 = await latestVersion();
    for (const [path, input] of [
      ["backend.move", { moves: [{ id: ids.alpha, poolId: green }] }],
      ["backend.bulkSetState", { ids: [ids.alpha], state: "disabled" }],
      ["backend.bulkSetWeight", { ids: [ids.alpha], weight: 1 }],
    ] as const) {
      const res = await viewer.mutate(path, input);
      expect(res.status, path).toBe(403);
    }
    const preview = await viewer.query("change.preview", {
      kind: "backend.delete",
      input: { id: ids.alpha },
    });
    expect(preview.status).toBe(403);
    expect(await latestVersion()).toBe(v0);
    const rollout = await viewer.query("change.rollout", { clusterId, version: v0 });
    expect(rollout.status).toBe(200);
  });

  it("takes a large preview as a POST (method override), where a URL would be too long", async () => {
    const operatorToken = await c.services.prisma.user.findFirst({ where: { role: "admin" } });
    const adminActor: Actor = { kind: "user", id: operatorToken!.id, name: "a", role: "admin" };
    const token = await callerAs(c, adminActor).token.create({ name: "ops", role: "operator" });
    const pool = await op.pool.create({ clusterId, name: "many" });
    const moves: Array<{ id: string; poolId: string }> = [];
    for (let i = 0; i < 200; i++) {
      const b = await op.backend.create({ poolId: pool.id, address: `10.1.${i >> 8}.${i & 255}`, port: 80 });
      moves.push({ id: b.id, poolId: green });
    }
    // A fresh connection (agent: false): a pooled one may meet the server's keep-alive timeout.
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = nodeHttp.request(
        `${c.url}/api/trpc/change.preview`,
        {
          method: "POST",
          agent: false,
          headers: { "content-type": "application/json", authorization: `Bearer ${token.secret}` },
          timeout: 10_000,
        },
        (r) => {
          let text = "";
          r.setEncoding("utf8");
          r.on("data", (d: string) => {
            text += d;
          });
          r.on("end", () => resolve({ status: r.statusCode ?? 0, text }));
          r.on("error", reject);
        },
      );
      req.on("error", reject);
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.end(JSON.stringify({ json: { kind: "backend.move", input: { moves } } }));
    });
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text) as { result: { data: { json: ChangePreview } } };
    const effect = body.result.data.json.pools.find((p) => p.name === "green")!;
    expect(effect.backends.filter((b) => b.membership === "joins")).toHaveLength(200);
    expect((await op.backend.move({ moves })).version).not.toBeNull();
    expect(await c.services.prisma.backend.count({ where: { poolId: green } })).toBe(201);
  });
});
