import { describe, expect, it } from "vitest";
import { StickyTable } from "../src/persistence/sticky-table";
import { RetryBudget } from "../src/retry-budget";
import { backend } from "./backends";

describe("retry budget", () => {
  it("allows retries up to budgetPercent of recent requests plus the per-second minimum", () => {
    const b = new RetryBudget({ budgetPercent: 20, minRetriesPerSecond: 1, windowMs: 10_000 });
    for (let i = 0; i < 100; i++) b.recordRequest(i * 10);
    // 20% of 100 + 1/s × 10 s = 30
    let allowed = 0;
    while (b.tryRetry(1_000)) allowed++;
    expect(allowed).toBe(30);
    expect(b.canRetry(1_000)).toBe(false);
    expect(b.stats(1_000)).toEqual({ requests: 100, retries: 30 });
  });

  it("a quiet pool still gets the minimum, and budget 0 leaves only the minimum", () => {
    const b = new RetryBudget({ budgetPercent: 0, minRetriesPerSecond: 0.3, windowMs: 10_000 });
    for (let i = 0; i < 1_000; i++) b.recordRequest(0);
    let allowed = 0;
    while (b.tryRetry(0)) allowed++;
    expect(allowed).toBe(3);
    const none = new RetryBudget({ budgetPercent: 0, minRetriesPerSecond: 0 });
    expect(none.tryRetry(0)).toBe(false);
  });

  it("forgets requests and retries that slid out of the window", () => {
    const b = new RetryBudget({ budgetPercent: 50, minRetriesPerSecond: 0, windowMs: 1_000, buckets: 10 });
    for (let i = 0; i < 10; i++) b.recordRequest(0);
    for (let i = 0; i < 5; i++) expect(b.tryRetry(50)).toBe(true);
    expect(b.tryRetry(50)).toBe(false);
    expect(b.stats(999)).toEqual({ requests: 10, retries: 5 });
    // The first slice [0,100) leaves the window at t=1000.
    expect(b.stats(1_000)).toEqual({ requests: 0, retries: 0 });
    expect(b.tryRetry(1_000)).toBe(false);
    b.recordRequest(1_500);
    b.recordRequest(1_500);
    expect(b.tryRetry(1_600)).toBe(true);
    expect(b.tryRetry(1_600)).toBe(false);
    // A long silence clears everything; time going backwards stays in the newest slice.
    expect(b.stats(100_000)).toEqual({ requests: 0, retries: 0 });
    b.recordRequest(99_000);
    expect(b.stats(100_000)).toEqual({ requests: 1, retries: 0 });
  });
});

describe("sticky table", () => {
  const pool = [backend("a"), backend("b"), backend("c")];

  it("returns the remembered backend until the (sliding) TTL passes", () => {
    const t = new StickyTable({ ttlMs: 1_000, maxEntries: 10 });
    t.set("client", "b", 0);
    expect(t.lookup("client", pool, 999)?.id).toBe("b");
    // The hit at 999 refreshed it.
    expect(t.lookup("client", pool, 1_998)?.id).toBe("b");
    expect(t.lookup("client", pool, 2_998)).toBeUndefined();
    expect(t.size).toBe(0);
    expect(t.lookup("nobody", pool, 0)).toBeUndefined();
  });

  it("evicts the least recently used entry beyond maxEntries", () => {
    const t = new StickyTable({ ttlMs: 10_000, maxEntries: 2 });
    t.set("k1", "a", 0);
    t.set("k2", "b", 0);
    t.lookup("k1", pool, 1);
    t.set("k3", "c", 2);
    expect(t.size).toBe(2);
    expect(t.lookup("k2", pool, 3)).toBeUndefined();
    expect(t.lookup("k1", pool, 3)?.id).toBe("a");
    expect(t.lookup("k3", pool, 3)?.id).toBe("c");
  });

  it("drops the entry when its backend is gone or no longer eligible, so the caller re-picks", () => {
    const t = new StickyTable({ ttlMs: 10_000, maxEntries: 10 });
    for (const [k, id] of [
      ["gone", "zz"],
      ["drain", "a"],
      ["eject", "b"],
      ["backup", "bk"],
    ] as const)
      t.set(k, id, 0);
    const now = [
      backend("a", { state: "draining" }),
      backend("b", { ejected: true }),
      backend("c"),
      backend("bk", { backup: true }),
    ];
    expect(t.lookup("gone", now, 1)).toBeUndefined();
    expect(t.lookup("drain", now, 1)).toBeUndefined();
    expect(t.lookup("eject", now, 1)).toBeUndefined();
    // A backup stops being eligible once a primary serves.
    expect(t.lookup("backup", now, 1)).toBeUndefined();
    expect(t.size).toBe(0);
    t.set("drain", "c", 2);
    expect(t.lookup("drain", now, 3)?.id).toBe("c");
  });

  it("counts live entries per backend, leaving expired ones out", () => {
    const t = new StickyTable({ ttlMs: 100, maxEntries: 10 });
    t.set("x", "a", 0);
    t.set("y", "a", 50);
    t.set("z", "b", 50);
    expect(Object.fromEntries(t.countByBackend(60))).toEqual({ a: 2, b: 1 });
    expect(Object.fromEntries(t.countByBackend(120))).toEqual({ a: 1, b: 1 });
    t.set("y", "b", 130);
    expect(Object.fromEntries(t.countByBackend(140))).toEqual({ b: 2 });
  });

  it("set reports the live pin it replaced; peek, ttlLeft and live read without refreshing", () => {
    const t = new StickyTable({ ttlMs: 100, maxEntries: 10 });
    expect(t.set("x", "a", 0)).toBeUndefined();
    expect(t.set("x", "b", 10)).toBe("a");
    // An expired pin is no pin: nothing was replaced.
    expect(t.set("x", "c", 500)).toBeUndefined();
    // An adopted entry keeps the expiry it had elsewhere.
    t.set("y", "a", 500, 30);
    expect(t.peek("y", 529)).toBe("a");
    expect(t.ttlLeft("y", 520)).toBe(10);
    expect(t.peek("y", 530)).toBeUndefined();
    expect([...t.live(520)]).toEqual([
      ["x", "c", 80],
      ["y", "a", 10],
    ]);
    expect([...t.live(530)]).toEqual([["x", "c", 70]]);
    expect(t.ttlLeft("nobody", 0)).toBe(0);
  });

  it("sweep removes expired entries", () => {
    const t = new StickyTable({ ttlMs: 100, maxEntries: 10 });
    t.set("x", "a", 0);
    t.set("y", "a", 50);
    expect(t.sweep(120)).toBe(1);
    expect(t.size).toBe(1);
  });
});
