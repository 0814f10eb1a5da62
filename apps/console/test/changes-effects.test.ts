import { type Snapshot, snapshotSchema } from "@fulcrum/protocol";
import { describe, expect, it } from "vitest";
import { type BackendLive, poolEffects } from "../src/server/domain/changes/effects";
import type { SnapshotBody } from "../src/server/snapshot/compile";

type B = { id: string; weight?: number; state?: "enabled" | "draining" | "disabled"; backup?: boolean };

/** One pool "p" as a schema-valid snapshot body; `routed`: a listener's route sends it traffic. */
function body(
  policy: Snapshot["pools"][number]["policy"],
  backends: B[],
  persistence = {},
  routed = true,
): SnapshotBody {
  const s = snapshotSchema.parse({
    version: 1,
    hash: "0".repeat(64),
    clusterId: "c",
    createdAt: new Date(0).toISOString(),
    listeners: routed
      ? [
          {
            id: "l",
            name: "web",
            protocol: "http",
            bindAddress: "127.0.0.1",
            port: 8080,
            routes: [{ id: "r", host: "", pathPrefix: "/", priority: 0, poolId: "p" }],
          },
        ]
      : [],
    pools: [
      {
        id: "p",
        name: "p",
        policy,
        policyOptions: {},
        healthCheck: {},
        persistence,
        backends: backends.map((b, i) => ({
          name: b.id,
          address: "10.0.0.1",
          port: 1000 + i,
          weight: 100,
          state: "enabled",
          backup: false,
          ...b,
        })),
      },
    ],
  });
  return { listeners: s.listeners, pools: s.pools };
}

const live = (over: Record<string, Partial<BackendLive>> = {}, poolRps = 100) => ({
  backend: (_poolId: string, id: string): BackendLive => ({
    status: "up",
    rps: 10,
    activeConnections: 2,
    stickySessions: 3,
    ...over[id],
  }),
  poolRps: () => poolRps,
});

const sharesAfter = (before: SnapshotBody, after: SnapshotBody, l = live()) =>
  Object.fromEntries(poolEffects(before, after, l)[0]!.backends.map((b) => [b.id, b.shareAfter]));

describe("traffic effects of a change (pure)", () => {
  it("splits by weight for weighted policies and equally for round robin", () => {
    const before = body("weighted_round_robin", [{ id: "a" }, { id: "b" }]);
    expect(
      sharesAfter(before, body("weighted_round_robin", [{ id: "a", weight: 240 }, { id: "b" }])),
    ).toEqual({
      a: 0.7059,
      b: 0.2941,
    });
    const rr = body("round_robin", [{ id: "a" }, { id: "b" }]);
    expect(sharesAfter(rr, body("round_robin", [{ id: "a", weight: 1 }, { id: "b" }, { id: "c" }]))).toEqual({
      a: 0.3333,
      b: 0.3333,
      c: 0.3333,
    });
  });

  it("gives nothing to draining, disabled, down or ejected backends; backups only when no primary serves", () => {
    const before = body("least_connections", [
      { id: "a" },
      { id: "b" },
      { id: "c" },
      { id: "bk", backup: true },
    ]);
    const after = body("least_connections", [
      { id: "a", state: "draining" },
      { id: "b" },
      { id: "c" },
      { id: "bk", backup: true },
    ]);
    expect(sharesAfter(before, after, live({ c: { status: "down" } }))).toEqual({ a: 0, b: 1, c: 0, bk: 0 });
    expect(sharesAfter(before, after, live({ b: { status: "ejected" }, c: { status: "down" } }))).toEqual({
      a: 0,
      b: 0,
      c: 0,
      bk: 1,
    });
  });

  it("first_available sends everything to the first eligible backend", () => {
    const before = body("first_available", [{ id: "a" }, { id: "b" }]);
    expect(
      sharesAfter(before, body("first_available", [{ id: "a", state: "disabled" }, { id: "b" }])),
    ).toEqual({
      a: 0,
      b: 1,
    });
  });

  it("counts connections to drain and sessions to re-pin only for backends that leave service", () => {
    const before = body("round_robin", [{ id: "a" }, { id: "b" }, { id: "c", state: "draining" }], {
      type: "source_ip",
    });
    const after = body(
      "round_robin",
      [
        { id: "a", state: "draining" },
        { id: "c", state: "disabled" },
      ],
      {
        type: "source_ip",
      },
    );
    const [effect] = poolEffects(before, after, live());
    // a drains (2 connections, 3 sessions), b leaves (2, 3); c was draining already (its 3 sessions were re-pinned then too).
    expect(effect).toMatchObject({ connectionsToDrain: 4, stickySessionsRepinned: 9 });
    expect(effect!.backends.find((b) => b.id === "b")).toMatchObject({ membership: "leaves", shareAfter: 0 });
    // Without persistence there is nothing to re-pin.
    const plain = poolEffects(
      body("round_robin", [{ id: "a" }]),
      body("round_robin", [{ id: "a", weight: 5 }, { id: "b" }]),
      live(),
    );
    expect(plain[0]).toMatchObject({ stickySessionsRepinned: 0, connectionsToDrain: 0 });
  });

  it("leaves out pools whose traffic does not change, and estimates rates from the pool's current rate", () => {
    const a = body("round_robin", [{ id: "a" }, { id: "b" }]);
    expect(poolEffects(a, a, live())).toEqual([]);
    const [effect] = poolEffects(
      a,
      body("round_robin", [{ id: "a" }, { id: "b", state: "disabled" }]),
      live({}, 80),
    );
    expect(effect!.backends.map((b) => [b.id, b.rpsNow, b.rpsAfter])).toEqual([
      ["a", 10, 80],
      ["b", 10, 0],
    ]);
    expect(effect!.routes).toBe(1);
  });

  it("expects no traffic for a pool no route sends any to", () => {
    const before = body("round_robin", [{ id: "a" }], {}, false);
    const [effect] = poolEffects(
      before,
      body("round_robin", [{ id: "a" }, { id: "b" }], {}, false),
      live({}, 5),
    );
    expect(effect!.routes).toBe(0);
    expect(effect!.backends.map((b) => [b.id, b.rpsAfter])).toEqual([
      ["a", 0],
      ["b", 0],
    ]);
  });
});
