import { murmur3 } from "../hash";

/** Upper bound on ring points when weights are small; see buildRing. */
export const RING_TARGET_POINTS = 16_384;

export interface Ring {
  /** Sorted point hashes. */
  readonly hashes: Uint32Array;
  /** owners[i] = index (into the entries given to buildRing) owning hashes[i]. */
  readonly owners: Uint32Array;
}

/**
 * Ketama-style ring: backend i gets max(1, round(weight × P)) points at
 * murmur3(id, seed = point number). P is a power of two, the largest with
 * total points ≤ RING_TARGET_POINTS, so it stays put when one backend of many
 * leaves (only crossing a power of two changes it); a backend's points are a
 * prefix of the same sequence whatever P is, so even then few keys move.
 * Points sort by (hash, id order), so the ring does not depend on input order.
 */
export function buildRing(entries: readonly { readonly id: string; readonly weight: number }[]): Ring {
  const order = entries.map((_, i) => i).sort((a, b) => cmp(entries[a]!.id, entries[b]!.id));
  let total = 0;
  for (const e of entries) total += e.weight;
  const perWeight = total > 0 ? 2 ** Math.floor(Math.log2(RING_TARGET_POINTS / total)) : 1;
  const counts = entries.map((e) => Math.max(1, Math.round(e.weight * perWeight)));
  let points = 0;
  for (const c of counts) points += c;
  // Pack (hash, rank in id order) into one float so a typed-array sort orders both; exact below 2^53.
  const packed = new Float64Array(points);
  let n = 0;
  for (let rank = 0; rank < order.length; rank++) {
    const i = order[rank]!;
    const id = entries[i]!.id;
    for (let p = 0; p < counts[i]!; p++) packed[n++] = murmur3(id, p) * 2_097_152 + rank;
  }
  packed.sort();
  const hashes = new Uint32Array(points);
  const owners = new Uint32Array(points);
  for (let k = 0; k < points; k++) {
    const v = packed[k]!;
    const rank = v % 2_097_152;
    hashes[k] = (v - rank) / 2_097_152;
    owners[k] = order[rank]!;
  }
  return { hashes, owners };
}

/** Index of the entry owning `hash`: the first point at or after it, wrapping around. */
export function ringLookup(ring: Ring, hash: number): number {
  const { hashes, owners } = ring;
  let lo = 0;
  let hi = hashes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (hashes[mid]! < hash) lo = mid + 1;
    else hi = mid;
  }
  return owners[lo === hashes.length ? 0 : lo]!;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
