import { describe, expect, it } from "vitest";
import { ActiveHealth } from "../src/health/active";
import { OutlierDetector } from "../src/health/outlier";

describe("active health (rise/fall)", () => {
  it("starts unknown and serving; the first success makes it up", () => {
    const h = new ActiveHealth({ rise: 3, fall: 2 });
    expect(h.state).toBe("unknown");
    expect(h.healthy).toBe(true);
    expect(h.observe(true)).toEqual({ from: "unknown", to: "up" });
    expect(h.observe(true)).toBeNull();
  });

  it("unknown goes down after `fall` consecutive failures", () => {
    const h = new ActiveHealth({ rise: 3, fall: 2 });
    expect(h.observe(false)).toBeNull();
    expect(h.healthy).toBe(true);
    expect(h.observe(false)).toEqual({ from: "unknown", to: "down" });
    expect(h.healthy).toBe(false);
  });

  it("up → down needs `fall` failures in a row; a success resets the streak", () => {
    const h = new ActiveHealth({ rise: 2, fall: 3, initial: "up" });
    expect(h.observe(false)).toBeNull();
    expect(h.observe(false)).toBeNull();
    expect(h.observe(true)).toBeNull();
    expect(h.observe(false)).toBeNull();
    expect(h.observe(false)).toBeNull();
    expect(h.observe(false)).toEqual({ from: "up", to: "down" });
    expect(h.observe(false)).toBeNull();
  });

  it("down → up needs `rise` successes in a row; a failure resets the streak", () => {
    const h = new ActiveHealth({ rise: 2, fall: 1, initial: "down" });
    expect(h.healthy).toBe(false);
    expect(h.observe(true)).toBeNull();
    expect(h.observe(false)).toBeNull();
    expect(h.observe(true)).toBeNull();
    expect(h.observe(true)).toEqual({ from: "down", to: "up" });
    expect(h.healthy).toBe(true);
  });

  it("clamps rise/fall below 1 to 1", () => {
    const h = new ActiveHealth({ rise: 0, fall: 0, initial: "up" });
    expect(h.observe(false)).toEqual({ from: "up", to: "down" });
    expect(h.observe(true)).toEqual({ from: "down", to: "up" });
  });
});

const config = { consecutiveFailures: 3, baseEjectionMs: 1_000, maxEjectionMs: 2_500, maxEjectedPercent: 50 };
const fail = (d: OutlierDetector, id: string, n: number, now: number) => {
  let last = null;
  for (let i = 0; i < n; i++) last = d.observe(id, false, now);
  return last;
};

describe("outlier detection", () => {
  it("ejects after consecutive failures; a success resets the count", () => {
    const d = new OutlierDetector(config, ["a", "b", "c", "d"]);
    expect(fail(d, "a", 2, 0)).toBeNull();
    expect(d.observe("a", true, 0)).toBeNull();
    expect(fail(d, "a", 2, 0)).toBeNull();
    expect(d.isEjected("a", 0)).toBe(false);
    expect(d.observe("a", false, 10)).toEqual({ id: "a", ejections: 1, multiplier: 1, until: 1_010 });
    expect(d.isEjected("a", 1_009)).toBe(true);
    expect(d.isEjected("a", 1_010)).toBe(false);
  });

  it("ejection time grows with each ejection and is capped", () => {
    const d = new OutlierDetector(config, ["a", "b", "c", "d"]);
    let now = 0;
    const durations: number[] = [];
    for (let k = 0; k < 4; k++) {
      const ev = fail(d, "a", 3, now)!;
      durations.push(ev.until - now);
      now = ev.until;
      expect(d.isEjected("a", now)).toBe(false);
    }
    expect(durations).toEqual([1_000, 2_000, 2_500, 2_500]);
  });

  it("returns with a clean streak and ignores results while ejected", () => {
    const d = new OutlierDetector(config, ["a", "b"]);
    fail(d, "a", 3, 0);
    expect(fail(d, "a", 10, 500)).toBeNull();
    expect(d.isEjected("a", 999)).toBe(true);
    expect(fail(d, "a", 2, 1_000)).toBeNull();
    expect(d.isEjected("a", 1_000)).toBe(false);
  });

  it("forgives old ejections once the backend has stayed in long enough", () => {
    const d = new OutlierDetector(config, ["a", "b"]);
    fail(d, "a", 3, 0);
    const second = fail(d, "a", 3, 1_000)!;
    expect(second).toMatchObject({ ejections: 2, multiplier: 2 });
    const third = fail(d, "a", 3, second.until + 2_500)!;
    expect(third).toMatchObject({ ejections: 3, multiplier: 1, until: second.until + 3_500 });
  });

  it("the multiplier drops by one per baseEjectionMs spent back in the pool", () => {
    const d = new OutlierDetector({ ...config, maxEjectionMs: 10_000 }, ["a", "b"]);
    let now = 0;
    for (let k = 1; k <= 4; k++) {
      const ev = fail(d, "a", 3, now)!;
      expect(ev.multiplier).toBe(k);
      now = ev.until;
    }
    expect(d.multiplier("a", now)).toBe(4);
    expect(d.multiplier("a", now + 999)).toBe(4);
    expect(d.multiplier("a", now + 1_000)).toBe(3);
    expect(d.multiplier("a", now + 2_999)).toBe(2);
    // Two whole intervals in: 4 - 2 + 1 = 3, so 3 s out, not 5.
    const ev = fail(d, "a", 3, now + 2_500)!;
    expect(ev).toMatchObject({ ejections: 5, multiplier: 3, until: now + 5_500 });
    expect(d.multiplier("a", ev.until + 60_000)).toBe(0);
  });

  it("the multiplier stops growing where the duration reaches maxEjectionMs, so it decays from there", () => {
    const d = new OutlierDetector(config, ["a", "b"]);
    let now = 0;
    for (let k = 0; k < 20; k++) now = fail(d, "a", 3, now)!.until;
    // max 2.5 s over base 1 s: a multiplier of 3 is the most that matters.
    expect(d.multiplier("a", now)).toBe(3);
    expect(fail(d, "a", 3, now + 3_000)!.multiplier).toBe(1);
  });

  it("a backend that fails for 15 s every 45 s keeps getting short ejections, not longer and longer ones", () => {
    // The demo's charlie: every request fails during [30, 45) s of each 45 s period, succeeds otherwise.
    const od = {
      consecutiveFailures: 5,
      baseEjectionMs: 30_000,
      maxEjectionMs: 300_000,
      maxEjectedPercent: 50,
    };
    const d = new OutlierDetector(od, ["charlie", "alpha", "bravo"]);
    const durations: number[] = [];
    let healthyMs = 0;
    let servedHealthyMs = 0;
    for (let now = 0; now < 15 * 60_000; now += 100) {
      const failing = now % 45_000 >= 30_000;
      if (!failing) healthyMs += 100;
      if (d.isEjected("charlie", now)) continue;
      if (!failing) servedHealthyMs += 100;
      const ev = d.observe("charlie", !failing, now);
      if (ev) durations.push(ev.until - now);
    }
    expect(durations.length).toBeGreaterThan(5);
    expect(Math.max(...durations)).toBeLessThanOrEqual(2 * od.baseEjectionMs);
    // Half its healthy time still serves (the rest is the ejection running past the outage).
    expect(servedHealthyMs / healthyMs).toBeGreaterThan(0.45);
  });

  it("never ejects more than maxEjectedPercent of the pool, and never all of it", () => {
    const d = new OutlierDetector(config, ["a", "b", "c", "d"]);
    expect(fail(d, "a", 3, 0)).not.toBeNull();
    expect(fail(d, "b", 3, 500)).not.toBeNull();
    expect(fail(d, "c", 3, 500)).toBeNull();
    expect(d.ejected(500)).toEqual(["a", "b"]);
    // Once a returns (b stays out until 1500) there is room again: c's streak was kept, one more failure ejects it.
    expect(d.observe("c", false, 1_000)).not.toBeNull();
    expect(d.ejected(1_000).sort()).toEqual(["b", "c"]);

    const all = new OutlierDetector({ ...config, maxEjectedPercent: 100 }, ["x", "y"]);
    expect(fail(all, "x", 3, 0)).not.toBeNull();
    expect(fail(all, "y", 3, 0)).toBeNull();
    const lone = new OutlierDetector({ ...config, maxEjectedPercent: 100 }, ["solo"]);
    expect(fail(lone, "solo", 10, 0)).toBeNull();
    const three = new OutlierDetector(config, ["p", "q", "r"]);
    expect(fail(three, "p", 3, 0)).not.toBeNull();
    expect(fail(three, "q", 3, 0)).toBeNull();
  });

  it("tracks the pool's membership", () => {
    const d = new OutlierDetector(config, ["a", "b"]);
    fail(d, "a", 3, 0);
    d.setBackends(["b", "c"]);
    expect(d.isEjected("a", 0)).toBe(false);
    expect(d.ejections("a")).toBe(0);
    expect(d.observe("zzz", false, 0)).toBeNull();
    expect(fail(d, "c", 3, 0)).not.toBeNull();
  });
});
