import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { get } from "./support/backends";
import { actors, callerAs, freePort, type TestConsole, waitFor } from "./support/console";
import { type Stack, startStack } from "./support/stack";

/** An HTTP backend that holds every request until release(): open requests to count. */
async function startHoldingHttpBackend() {
  const held: http.ServerResponse[] = [];
  const server = http.createServer((_req, res) => {
    held.push(res);
  });
  server.on("clientError", (_e, s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    held: () => held.length,
    release() {
      for (const res of held.splice(0)) res.end("done");
    },
    close: () =>
      new Promise<void>((r) => {
        for (const res of held.splice(0)) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe("what the pool pages show is what the agent did (real console, agent and backends)", () => {
  let stack: Stack;
  let c: TestConsole;
  let clusterId: string;
  let demo: string;
  let spare: string;
  let slow: string;
  let webPort: number;
  let slowPort: number;
  const ids: Record<string, string> = {};
  let holding: Awaited<ReturnType<typeof startHoldingHttpBackend>>;
  let op: ReturnType<typeof callerAs>;
  let traffic: { stop(): Promise<void> } | undefined;

  const latest = async () => (await stack.latestVersion())!;
  const rolledOut = (version: number) => stack.rolledOut(version);

  /** About 30 requests a second to the demo listener until stopped. */
  function startTraffic() {
    let running = true;
    const loop = (async () => {
      while (running) {
        await get(webPort).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 30));
      }
    })();
    return {
      async stop() {
        running = false;
        await loop;
      },
    };
  }

  beforeAll(async () => {
    stack = await startStack({ cluster: "edge", backends: ["alpha", "bravo"] });
    ({ console: c, operator: op, clusterId } = stack);
    demo = (await op.pool.create({ clusterId, name: "demo" })).id;
    spare = (await op.pool.create({ clusterId, name: "spare" })).id;
    slow = (await op.pool.create({ clusterId, name: "slow" })).id;
    for (const b of stack.backends) {
      ids[b.name] = (
        await op.backend.create({ poolId: demo, name: b.name, address: "127.0.0.1", port: b.port })
      ).id;
    }
    holding = await startHoldingHttpBackend();
    await op.backend.create({ poolId: slow, name: "held", address: "127.0.0.1", port: holding.port });
    [webPort, slowPort] = [await freePort(), await freePort()];
    for (const [name, port, pool] of [
      ["web", webPort, demo],
      ["slow", slowPort, slow],
    ] as const) {
      const l = await op.listener.create({
        clusterId,
        name,
        bindAddress: "127.0.0.1",
        port,
        protocol: "http",
      });
      await op.route.create({ listenerId: l.id, poolId: pool });
    }
    await stack.enroll("edge-1");
    await rolledOut(await latest());
    await waitFor("the agent to serve", async () => (await get(webPort)).status === 200);
  });

  afterAll(async () => {
    await traffic?.stop();
    await stack?.close();
    await holding?.close();
  });

  it("a pool's active connections count the requests its backends are serving", async () => {
    const viewer = callerAs(c, actors.viewer);
    const open = [0, 1, 2].map(() =>
      fetch(`http://127.0.0.1:${slowPort}/`, { signal: AbortSignal.timeout(30_000) }).then((r) => r.text()),
    );
    try {
      await waitFor("three held requests", () => holding.held() === 3);
      const series = await waitFor(
        "the pool's connection gauge",
        async () => {
          const s = await viewer.metrics.series({ clusterId, scope: "pool", id: slow, range: "5m" });
          // The agent's point (3 held) may straddle two seconds: each gets its share, at least half.
          return s.points.some((p) => p.activeConnections >= 1.5) ? s : undefined;
        },
        30_000,
      );
      expect(Math.max(...series.points.map((p) => p.activeConnections))).toBeLessThanOrEqual(3);
    } finally {
      holding.release();
      await Promise.allSettled(open);
    }
  });

  it("after a move, the backend's rate in its new pool starts from 0, and the dry run expects none there", async () => {
    traffic = startTraffic();
    const viewer = callerAs(c, actors.viewer);
    await waitFor("alpha's rate in demo", async () => {
      const rows = await viewer.metrics.poolBackends({ clusterId, poolId: demo, range: "5m" });
      return (rows.series[ids.alpha!] ?? []).some((p) => p.rps > 1);
    });
    await waitFor(
      "10 s of rate for the dry run",
      () => c.services.metrics.recentRps(clusterId, "pool", demo) > 5,
    );

    const input = { moves: [{ id: ids.alpha!, poolId: spare }] };
    const preview = await op.change.preview({ kind: "backend.move", input });
    const into = preview.pools.find((p) => p.poolId === spare)!;
    const outOf = preview.pools.find((p) => p.poolId === demo)!;
    expect(into.routes).toBe(0);
    // alpha serves demo now, not spare: nothing "now" under spare, and nothing after either.
    expect(into.backends.find((b) => b.id === ids.alpha)).toMatchObject({
      membership: "joins",
      rpsNow: 0,
      rpsAfter: 0,
    });
    expect(outOf.backends.find((b) => b.id === ids.alpha)!.rpsNow).toBeGreaterThan(1);
    expect(outOf.backends.find((b) => b.id === ids.bravo)!.rpsAfter).toBeGreaterThan(
      outOf.backends.find((b) => b.id === ids.bravo)!.rpsNow,
    );

    const moved = await op.backend.move(input);
    await rolledOut(moved.version!);
    await waitFor(
      "the agent to report alpha in spare",
      () => c.services.metrics.backendStatusOf(ids.alpha!, spare) !== "unknown",
    );
    // Its rate in spare: no point carries demo's traffic, so the board's sparkline cannot show it.
    const rows = await viewer.metrics.poolBackends({ clusterId, poolId: spare, range: "5m" });
    expect(rows.series[ids.alpha!]!.length).toBeGreaterThan(0);
    expect(rows.series[ids.alpha!]!.every((p) => p.rps === 0)).toBe(true);
    await traffic.stop();
    traffic = undefined;
  });
});
