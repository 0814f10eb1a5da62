import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  decodeAgentMessage,
  encodeAgentMessage,
  MAX_STATS_BACKENDS,
  MAX_STATS_LISTENERS,
  MAX_STATS_POOLS,
  MAX_STATS_ROUTES,
  type StatsPoint,
  statsPointSchema,
} from "../src/index";

const idle = { activeConnections: 0 };
const backend = (poolId: string) => ({ ...idle, poolId, status: "up" as const });

/** A keyframe as an agent sends it for a cluster: every entry listed, keyed by console-issued UUIDs. */
function keyframe(pools: number, backendsPerPool: number): StatsPoint {
  const point: StatsPoint = statsPointSchema.parse({
    at: "2026-01-01T00:00:00.000Z",
    intervalMs: 1000,
    seq: 0,
  });
  for (let p = 0; p < pools; p++) {
    const poolId = randomUUID();
    point.pools[poolId] = statsPointSchema.shape.pools.parse({ x: idle }).x!;
    for (let b = 0; b < backendsPerPool; b++) {
      point.backends[randomUUID()] = statsPointSchema.shape.backends.parse({ x: backend(poolId) }).x!;
    }
  }
  return point;
}

/** n entries with ids e0 … e{n-1}. */
const entries = <T>(n: number, value: T) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`e${i}`, value]));

describe("stats point bounds", () => {
  it("a keyframe of 200 pools and 10,000 backends decodes", () => {
    const point = keyframe(200, 50);
    const frame = encodeAgentMessage("stats", { points: [point] });
    const decoded = decodeAgentMessage(frame);
    expect(decoded.ok).toBe(true);
    if (decoded.ok && decoded.message.type === "stats") {
      const [p] = decoded.message.payload.points;
      expect(Object.keys(p!.pools)).toHaveLength(200);
      expect(Object.keys(p!.backends)).toHaveLength(10_000);
    }
  });

  it.each([
    ["listeners", MAX_STATS_LISTENERS, idle],
    ["routes", MAX_STATS_ROUTES, idle],
    ["pools", MAX_STATS_POOLS, idle],
    ["backends", MAX_STATS_BACKENDS, backend("p1")],
  ] as const)("%s: %i entries decode, one more is refused before any entry is read", (record, max, value) => {
    const base = { at: "2026-01-01T00:00:00.000Z", intervalMs: 1000, seq: 0 };
    expect(statsPointSchema.safeParse({ ...base, [record]: entries(max, value) }).success).toBe(true);
    // The extra entry is malformed too: only the count is reported, so no entry was parsed.
    const over = { ...entries(max, value), zz: { requests: -1 } };
    const refused = statsPointSchema.safeParse({ ...base, [record]: over });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues).toEqual([
      expect.objectContaining({ path: [record], message: `At most ${max} ${record} per point.` }),
    ]);
  });

  it.each(["", "a b", "p1\n", "p1\r\nX-Injected: 1", "../etc", "pool/1", "ü", "x".repeat(129)])(
    "a key or pool id %j outside the snapshot id grammar is refused",
    (bad) => {
      const base = { at: "2026-01-01T00:00:00.000Z", intervalMs: 1000, seq: 0 };
      for (const record of ["listeners", "routes", "pools"] as const) {
        expect(statsPointSchema.safeParse({ ...base, [record]: { [bad]: idle } }).success).toBe(false);
      }
      expect(statsPointSchema.safeParse({ ...base, backends: { [bad]: backend("p1") } }).success).toBe(false);
      expect(statsPointSchema.safeParse({ ...base, backends: { b1: backend(bad) } }).success).toBe(false);
      // The same point with snapshot ids is fine.
      expect(statsPointSchema.safeParse({ ...base, backends: { "b-1.x_~": backend("p1") } }).success).toBe(
        true,
      );
    },
  );

  it("a point's time is at most 64 characters", () => {
    const base = { intervalMs: 1000, seq: 0 };
    expect(
      statsPointSchema.safeParse({ ...base, at: `2026-01-01T00:00:00.000Z${" ".repeat(41)}` }).success,
    ).toBe(false);
    expect(statsPointSchema.safeParse({ ...base, at: "2026-01-01T00:00:00.000Z" }).success).toBe(true);
  });
});
