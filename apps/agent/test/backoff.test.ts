import { describe, expect, it } from "vitest";
import { backoffDelay } from "../src/retry/backoff";

describe("backoffDelay (full jitter)", () => {
  const opts = { baseMs: 500, capMs: 30_000 };
  it("doubles the ceiling per attempt up to the cap", () => {
    const top = () => 0.999999;
    expect([0, 1, 2, 3, 6, 7, 50].map((n) => backoffDelay(n, opts, top))).toEqual([
      499, 999, 1999, 3999, 29999, 29999, 29999,
    ]);
  });
  it("spreads delays down to zero", () => {
    expect(backoffDelay(5, opts, () => 0)).toBe(0);
    expect(backoffDelay(5, opts, () => 0.5)).toBe(8000);
  });
});
