import { describe, expect, it } from "vitest";
import { fmix32, murmur3 } from "../src/hash";

describe("murmur3 (x86, 32-bit, UTF-8)", () => {
  it.each([
    ["", 0, 0],
    ["", 1, 0x514e28b7],
    ["", 0xffffffff, 0x81f16f39],
    ["\0\0\0\0", 0, 0x2362f9de],
    ["aaaa", 0x9747b28c, 0x5a97808a],
    ["abc", 0, 0xb3dd93fa],
    ["hello", 0, 0x248bfa47],
    ["Hello, world!", 0x9747b28c, 0x24884cba],
    ["ππππππππ", 0x9747b28c, 0xd58063c1],
    ["The quick brown fox jumps over the lazy dog", 0x9747b28c, 0x2fa826cd],
  ])("matches the reference vector for %j seed %d", (input, seed, expected) => {
    expect(murmur3(input, seed)).toBe(expected);
  });

  it("returns unsigned 32-bit integers and spreads similar keys", () => {
    const buckets = new Array(16).fill(0);
    for (let i = 0; i < 16_000; i++) {
      const h = murmur3(`10.0.${i >> 8}.${i & 255}`);
      expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
      buckets[h >>> 28]++;
    }
    for (const b of buckets) expect(Math.abs(b - 1000)).toBeLessThan(150);
    expect(fmix32(0)).toBe(0);
    expect(fmix32(1)).not.toBe(1);
  });
});
