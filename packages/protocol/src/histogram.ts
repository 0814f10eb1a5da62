import { z } from "zod";

/**
 * Latency histogram with FIXED logarithmic buckets, identical on every agent,
 * so histograms merge by adding counts. 8 buckets per doubling (each bucket
 * ~9% wide) from 0.1 ms to ~62 s:
 *   bucket 0:            [0, 0.1 ms)
 *   bucket i (1..154):   [0.1·2^((i-1)/8), 0.1·2^(i/8)) ms
 *   bucket 155:          [~62.3 s, ∞)  (overflow)
 * A plain JSON object; recordValue() is allocation-free.
 */
export const HISTOGRAM_MIN_MS = 0.1;
export const HISTOGRAM_BUCKETS_PER_DOUBLING = 8;
/** Number of finite upper bounds; counts has one more slot (overflow). */
const FINITE = 155;
export const HISTOGRAM_BUCKET_COUNT = FINITE + 1;

/** HISTOGRAM_UPPER_BOUNDS[i] = exclusive upper bound (ms) of bucket i; the last bucket has none. */
export const HISTOGRAM_UPPER_BOUNDS: readonly number[] = Object.freeze(
  Array.from({ length: FINITE }, (_, i) => HISTOGRAM_MIN_MS * 2 ** (i / HISTOGRAM_BUCKETS_PER_DOUBLING)),
);
const BOUNDS = new Float64Array(HISTOGRAM_UPPER_BOUNDS);

export interface Histogram {
  /** HISTOGRAM_BUCKET_COUNT counts, one per bucket. */
  counts: number[];
  /** Sum of recorded values (ms), for the mean. */
  sum: number;
  count: number;
}

export const histogramSchema = z.object({
  counts: z.array(z.number().int().min(0)).length(HISTOGRAM_BUCKET_COUNT),
  sum: z.number().min(0),
  count: z.number().int().min(0),
});

export function createHistogram(): Histogram {
  return { counts: new Array<number>(HISTOGRAM_BUCKET_COUNT).fill(0), sum: 0, count: 0 };
}

/** Bucket of a value in ms: O(1) via log2, corrected against the bound table at the edges. */
export function bucketIndex(ms: number): number {
  if (!(ms >= HISTOGRAM_MIN_MS)) return 0; // also NaN and negatives
  let i = Math.floor(Math.log2(ms / HISTOGRAM_MIN_MS) * HISTOGRAM_BUCKETS_PER_DOUBLING) + 1;
  if (i >= FINITE) return ms >= BOUNDS[FINITE - 1]! ? FINITE : FINITE - 1;
  if (ms < BOUNDS[i - 1]!) i--;
  else if (ms >= BOUNDS[i]!) i++;
  return i;
}

/** [lower, upper) of bucket i in ms; upper is Infinity for the overflow bucket. */
export function bucketRange(i: number): [number, number] {
  const lower = i <= 0 ? 0 : BOUNDS[Math.min(i, FINITE) - 1]!;
  const upper = i >= FINITE ? Number.POSITIVE_INFINITY : BOUNDS[Math.max(i, 0)]!;
  return [lower, upper];
}

/** Records one latency (ms). Negative and NaN values count as 0. */
export function recordValue(h: Histogram, ms: number): void {
  const v = Number.isNaN(ms) ? 0 : Math.max(ms, 0);
  const i = bucketIndex(v);
  h.counts[i] = (h.counts[i] ?? 0) + 1;
  h.sum += v;
  h.count++;
}

/** Adds `from` into `into` (in place) and returns `into`. */
export function mergeInto(into: Histogram, from: Histogram): Histogram {
  for (let i = 0; i < HISTOGRAM_BUCKET_COUNT; i++)
    into.counts[i] = (into.counts[i] ?? 0) + (from.counts[i] ?? 0);
  into.sum += from.sum;
  into.count += from.count;
  return into;
}

/** A new histogram holding everything recorded in all inputs (e.g. one per agent). */
export function mergeHistograms(...hs: readonly Histogram[]): Histogram {
  const out = createHistogram();
  for (const h of hs) mergeInto(out, h);
  return out;
}

/**
 * Estimated q-quantile (0 ≤ q ≤ 1) in ms, interpolating linearly inside the
 * bucket holding the rank, so it is within one bucket (~9%) of the exact
 * value. The overflow bucket reports its lower bound. NaN when empty.
 */
export function quantile(h: Histogram, q: number): number {
  if (h.count <= 0) return Number.NaN;
  const rank = Math.min(h.count, Math.max(1, Math.ceil(Math.min(1, Math.max(0, q)) * h.count)));
  let seen = 0;
  for (let i = 0; i < HISTOGRAM_BUCKET_COUNT; i++) {
    const c = h.counts[i] ?? 0;
    if (c === 0) continue;
    if (seen + c >= rank) {
      const [lower, upper] = bucketRange(i);
      if (upper === Number.POSITIVE_INFINITY) return lower;
      return lower + ((upper - lower) * (rank - seen)) / c;
    }
    seen += c;
  }
  return bucketRange(HISTOGRAM_BUCKET_COUNT - 1)[0];
}

export const histogramMean = (h: Histogram): number => (h.count > 0 ? h.sum / h.count : Number.NaN);
