import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NodeEngine } from "../src/engines/builtin/node-engine";
import { silentLogger } from "../src/log";
import { type CtlBackend, countBy, sleep, startCtlBackend } from "./helpers/backends";
import { freePort, get } from "./helpers/net";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";

/**
 * A backend moved from one pool to another (the console's drag and drop) keeps
 * its address state (counters, health, latency) but joins the new pool with
 * slow start, like any backend newly listed in a running pool.
 */
describe.each(["h1", "node"] as const)("%s front end: a backend moved into a pool", (frontEnd) => {
  let a: CtlBackend;
  let b: CtlBackend;
  let engine: NodeEngine;
  let targetPort: number;
  let sourcePort: number;

  beforeEach(async () => {
    [a, b] = await Promise.all([startCtlBackend("a"), startCtlBackend("b")]);
    engine = new NodeEngine({ log: silentLogger, timeouts: { drainGraceMs: 200 }, httpFrontEnd: frontEnd });
    [targetPort, sourcePort] = [await freePort(), await freePort()];
  });
  afterEach(async () => {
    await engine.stop();
    await Promise.all([a.close(), b.close()]);
  });

  /** p1 (the target, on targetPort) and p2 (the source, on sourcePort); `moved` puts b in p1. */
  const snap = (v: number, moved: boolean, slowStartMs: number) =>
    makeSnapshot(
      v,
      [
        httpListener(targetPort),
        httpListener(sourcePort, {
          routes: [{ id: "r-src", host: "", pathPrefix: "/", priority: 0, poolId: "p2" }],
        }),
      ],
      moved
        ? [backend("a", a.port, { weight: 10 }), backend("b", b.port, { weight: 10 })]
        : [backend("a", a.port, { weight: 10 })],
      "weighted_round_robin",
      [{ id: "p2", backends: moved ? [] : [backend("b", b.port, { weight: 10 })] }],
      { slowStartMs },
    );

  const burst = async (n: number) =>
    countBy(await Promise.all(Array.from({ length: n }, () => get(targetPort).then((r) => r.body))));

  it("ramps its share over the target pool's slowStartMs", async () => {
    // A 3 s ramp: the early burst must end within its first ~25% to see b at ≤ 10 of 40, which a
    // loaded machine did not always manage with 1.5 s.
    await engine.apply(snap(1, false, 3000));
    // b serves in its old pool first: its address state exists before the move.
    expect((await get(sourcePort)).body).toBe("b");
    expect(engine.stats().backends[`127.0.0.1:${b.port}`]?.attempts).toBe(1);
    expect(new Set((await burst(4)).keys())).toEqual(new Set(["a"]));

    await engine.apply(snap(2, true, 3000));
    const early = await burst(40);
    await sleep(3100);
    const late = await burst(40);
    // Equal weights would give b 20 of 40; during the ramp it starts at 10% of its weight.
    expect(early.get("b") ?? 0).toBeGreaterThan(0);
    expect(early.get("b") ?? 0).toBeLessThanOrEqual(10);
    expect(late.get("b")).toBe(20);
    // Its address state survived the move.
    expect(engine.stats().backends[`127.0.0.1:${b.port}`]!.attempts).toBeGreaterThan(20);
  });

  it("takes its full weight at once when the target pool has no slow start", async () => {
    await engine.apply(snap(1, false, 0));
    expect((await get(sourcePort)).body).toBe("b");
    await engine.apply(snap(2, true, 0));
    expect((await burst(40)).get("b")).toBe(20);
  });
});
