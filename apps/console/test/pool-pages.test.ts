import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actors, callerAs, failure, type TestConsole } from "./support/console";
import { type Stack, startStack } from "./support/stack";

/**
 * The board's lean shape and the pool page's pages: what the UI reads for a
 * pool of many backends without loading every field of every backend.
 */
describe("pool board and backend pages", () => {
  let stack: Stack;
  let c: TestConsole;
  let op: ReturnType<typeof callerAs>;
  let clusterId: string;
  let poolId: string;
  const COUNT = 130;

  beforeAll(async () => {
    stack = await startStack({ cluster: "big" });
    ({ console: c, operator: op, clusterId } = stack);
    poolId = (await op.pool.create({ clusterId, name: "wide" })).id;
    await op.pool.create({ clusterId, name: "empty" });
    // Seeded in one insert: 130 topology commits would only slow the test down.
    await c.services.prisma.backend.createMany({
      data: Array.from({ length: COUNT }, (_, i) => ({
        poolId,
        name: `b-${i}`,
        address: `10.0.${i >> 8}.${i & 255}`,
        port: 80 + (i % 3),
        state: i % 10 === 0 ? ("draining" as const) : ("enabled" as const),
        publicBaseUrl: "https://example.com",
      })),
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("the board lists every pool with every backend, without limits, URLs or timestamps", async () => {
    const board = await callerAs(c, actors.viewer).pool.board({ clusterId });
    expect(board.map((p) => p.name)).toEqual(["empty", "wide"]);
    const wide = board[1]!;
    expect(wide.backends).toHaveLength(COUNT);
    expect(Object.keys(wide.backends[0]!).sort()).toEqual(
      ["address", "backup", "id", "name", "poolId", "port", "state", "weight"].sort(),
    );
    const full = await op.pool.list({ clusterId });
    expect(wide.backends.map((b) => b.id)).toEqual(full[1]!.backends.map((b) => b.id));
  });

  it("pages through a pool's backends in the board's order, each once", async () => {
    const full = (await op.pool.list({ clusterId }))[1]!.backends.map((b) => b.id);
    const seen: string[] = [];
    let cursor: { address: string; port: number } | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page: Awaited<ReturnType<typeof op.pool.backends>> = await op.pool.backends({
        poolId,
        cursor,
        limit: 50,
      });
      expect(page.total).toBe(COUNT);
      expect(page.items.length).toBeLessThanOrEqual(50);
      seen.push(...page.items.map((b) => b.id));
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(full);
  });

  it("a page continues after its cursor even when that backend is gone", async () => {
    const first = await op.pool.backends({ poolId, limit: 10 });
    const last = first.items.at(-1)!;
    const expected = (await op.pool.backends({ poolId, cursor: first.nextCursor, limit: 5 })).items;
    await op.backend.delete({ id: last.id });
    const after = await op.pool.backends({ poolId, cursor: first.nextCursor, limit: 5 });
    expect(after.items.map((b) => b.id)).toEqual(expected.map((b) => b.id));
    expect(after.total).toBe(COUNT - 1);
  });

  it("refuses pages over 200 and unknown pools", async () => {
    expect((await failure(op.pool.backends({ poolId, limit: 201 }))).code).toBe("BAD_REQUEST");
    expect((await failure(op.pool.backends({ poolId: "00000000-0000-4000-8000-000000000000" }))).code).toBe(
      "NOT_FOUND",
    );
  });

  it("createMany adds a batch in one config version with an audit entry each, or nothing", async () => {
    const target = (await op.pool.create({ clusterId, name: "batch" })).id;
    const versions = () => c.services.prisma.configVersion.count({ where: { clusterId } });
    const audits = () => c.services.prisma.auditEntry.count({ where: { action: "backend.create" } });
    const [v0, a0] = [await versions(), await audits()];
    const backends = Array.from({ length: 300 }, (_, i) => ({
      address: `192.168.${i >> 8}.${i & 255}`,
      port: 81,
    }));
    const made = await op.backend.createMany({ poolId: target, backends });
    expect(made.ids).toHaveLength(300);
    expect(await versions()).toBe(v0 + 1);
    expect(await audits()).toBe(a0 + 300);
    expect((await op.pool.summary({ id: target }))._count.backends).toBe(300);

    // One already in the pool refuses the whole batch; so does one listed twice.
    const clash = [{ address: "10.9.9.9", port: 81 }, backends[7]!];
    expect((await failure(op.backend.createMany({ poolId: target, backends: clash }))).code).toBe("CONFLICT");
    const twice = [
      { address: "10.9.9.9", port: 81 },
      { address: "10.9.9.9", port: 81 },
    ];
    expect((await failure(op.backend.createMany({ poolId: target, backends: twice }))).code).toBe(
      "BAD_REQUEST",
    );
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({
      address: `10.8.${i >> 8}.${i & 255}`,
      port: 1,
    }));
    expect((await failure(op.backend.createMany({ poolId: target, backends: tooMany }))).code).toBe(
      "BAD_REQUEST",
    );
    expect((await op.pool.summary({ id: target }))._count.backends).toBe(300);
    expect(await versions()).toBe(v0 + 1);
  });

  it("cardMetrics answers for the asked backends only, at most 100, in a pool of the cluster", async () => {
    const page = await op.pool.backends({ poolId, limit: 3 });
    const ids = page.items.map((b) => b.id);
    const viewer = callerAs(c, actors.viewer);
    const m = await viewer.pool.cardMetrics({ clusterId, poolId, ids });
    expect(Object.keys(m.series).sort()).toEqual([...ids].sort());
    expect(Object.keys(m.status).sort()).toEqual([...ids].sort());
    expect(Object.values(m.status)).toEqual(["unknown", "unknown", "unknown"]);
    const tooMany = Array.from({ length: 101 }, () => ids[0]!);
    expect((await failure(viewer.pool.cardMetrics({ clusterId, poolId, ids: tooMany }))).code).toBe(
      "BAD_REQUEST",
    );
    const other = (await op.cluster.create({ name: "other" })).id;
    expect((await failure(viewer.pool.cardMetrics({ clusterId: other, poolId, ids }))).code).toBe(
      "NOT_FOUND",
    );
  });

  it("the summary counts backends by state without listing them", async () => {
    const summary = await op.pool.summary({ id: poolId });
    expect(summary).not.toHaveProperty("backends");
    expect(summary._count.backends).toBe(COUNT - 1);
    expect(summary.states.draining).toBe(13);
    expect(summary.states.enabled + summary.states.draining + summary.states.disabled).toBe(COUNT - 1);
  });
});
