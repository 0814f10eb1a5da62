import { describe, expect, it } from "vitest";
import {
  bucketIndex,
  bucketRange,
  createHistogram,
  HISTOGRAM_BUCKET_COUNT,
  HISTOGRAM_UPPER_BOUNDS,
  type Histogram,
  histogramMean,
  histogramSchema,
  mergeHistograms,
  mergeInto,
  quantile,
  recordValue,
} from "../src/index";

/** mulberry32, seeded so the test is reproducible. */
function seededRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Log-uniform latencies from 0.05 ms to 100 s, so every bucket region is exercised. */
const latencies = (n: number, seed: number) => {
  const rng = seededRng(seed);
  return Array.from({ length: n }, () => 0.05 * 2_000_000 ** rng());
};

const exactQuantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;

describe("latency histogram", () => {
  it("has fixed log buckets from 0.1 ms to ~60 s, 8 per doubling", () => {
    expect(HISTOGRAM_BUCKET_COUNT).toBe(156);
    expect(HISTOGRAM_UPPER_BOUNDS[0]).toBe(0.1);
    expect(HISTOGRAM_UPPER_BOUNDS.at(-1)!).toBeGreaterThan(60_000);
    for (let i = 1; i < HISTOGRAM_UPPER_BOUNDS.length; i++) {
      expect(HISTOGRAM_UPPER_BOUNDS[i]! / HISTOGRAM_UPPER_BOUNDS[i - 1]!).toBeCloseTo(2 ** (1 / 8), 10);
    }
  });

  it("puts every value in the bucket whose [lower, upper) holds it, exact bounds included", () => {
    const values = [0, 0.05, 0.1, 0.1000001, 1, 2, 3.7, 250, 59_999, 62_349, 1e9, ...HISTOGRAM_UPPER_BOUNDS];
    for (const v of [...values, ...latencies(10_000, 1)]) {
      const [lower, upper] = bucketRange(bucketIndex(v));
      expect(v).toBeGreaterThanOrEqual(lower);
      expect(v).toBeLessThan(upper);
    }
    expect(bucketIndex(-5)).toBe(0);
    expect(bucketIndex(Number.NaN)).toBe(0);
    expect(bucketIndex(Number.POSITIVE_INFINITY)).toBe(HISTOGRAM_BUCKET_COUNT - 1);
  });

  it("quantiles land within one bucket of the exact value", () => {
    const values = latencies(50_000, 2).filter((v) => v < 60_000);
    const h = createHistogram();
    for (const v of values) recordValue(h, v);
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0, 0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999, 1]) {
      const exact = exactQuantile(sorted, q);
      const est = quantile(h, q);
      const i = bucketIndex(exact);
      const [lower] = bucketRange(Math.max(0, i - 1));
      const [, upper] = bucketRange(Math.min(HISTOGRAM_BUCKET_COUNT - 1, i + 1));
      expect(est).toBeGreaterThanOrEqual(lower);
      expect(est).toBeLessThanOrEqual(upper);
      // Same bucket in fact, so within ~9% relative above 0.1 ms.
      if (exact >= 0.1) expect(Math.abs(est - exact) / exact).toBeLessThan(0.1);
    }
    expect(histogramMean(h)).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 6);
  });

  it("a constant stream reports its own bucket; empty reports NaN; overflow reports its lower bound", () => {
    const h = createHistogram();
    expect(quantile(h, 0.5)).toBeNaN();
    for (let i = 0; i < 100; i++) recordValue(h, 12);
    const [lower, upper] = bucketRange(bucketIndex(12));
    expect(quantile(h, 0.99)).toBeGreaterThanOrEqual(lower);
    expect(quantile(h, 0.99)).toBeLessThanOrEqual(upper);
    const big = createHistogram();
    recordValue(big, 3_600_000);
    expect(quantile(big, 0.5)).toBe(HISTOGRAM_UPPER_BOUNDS.at(-1));
  });

  it("merging per-agent histograms equals recording everything into one", () => {
    const all = latencies(30_000, 3);
    const agents = [createHistogram(), createHistogram(), createHistogram()];
    const single = createHistogram();
    all.forEach((v, i) => {
      recordValue(agents[i % 3]!, v);
      recordValue(single, v);
    });
    // Through JSON, as they travel from agents to the console.
    const wire = agents.map((h) => histogramSchema.parse(JSON.parse(JSON.stringify(h))) as Histogram);
    const merged = mergeHistograms(...wire);
    expect(merged.counts).toEqual(single.counts);
    expect(merged.count).toBe(single.count);
    expect(merged.sum).toBeCloseTo(single.sum, 3);
    for (const q of [0.5, 0.9, 0.99]) expect(quantile(merged, q)).toBeCloseTo(quantile(single, q), 9);
    expect(mergeInto(createHistogram(), single).counts).toEqual(single.counts);
    expect(mergeHistograms().count).toBe(0);
  });

  it("records without allocating new arrays and rejects malformed payloads", () => {
    const h = createHistogram();
    const counts = h.counts;
    for (let i = 0; i < 1000; i++) recordValue(h, i);
    expect(h.counts).toBe(counts);
    expect(h.counts.length).toBe(HISTOGRAM_BUCKET_COUNT);
    expect(histogramSchema.safeParse({ counts: [1, 2], sum: 0, count: 3 }).success).toBe(false);
  });
});
