import { murmur3 } from "../hash";

/** Prime, so every skip in 1..M-1 walks the whole table. ~100 slots per backend keeps shares within 1%. */
export const MAGLEV_TABLE_SIZE = 65_537;

const OFFSET_SEED = 0x9e3779b1;
const SKIP_SEED = 0x85ebca77;

/**
 * Maglev lookup table (Eisenbud et al., NSDI 2016) with Envoy's weighting:
 * each backend walks its own permutation (offset + j·skip) mod M and claims
 * the next free slot; a backend of weight w/max takes a turn only every
 * max/w rounds, so slot counts follow weights. Entries are visited in id
 * order, so the table does not depend on input order. table[slot] = index
 * into `entries`.
 */
export function buildMaglev(
  entries: readonly { readonly id: string; readonly weight: number }[],
  size = MAGLEV_TABLE_SIZE,
): Int32Array {
  const table = new Int32Array(size).fill(-1);
  const n = entries.length;
  if (n === 0) return table;
  const order = entries.map((_, i) => i).sort((a, b) => cmp(entries[a]!.id, entries[b]!.id));
  let max = 0;
  for (const e of entries) max = Math.max(max, e.weight);
  const weight = new Float64Array(n);
  const position = new Float64Array(n);
  const skip = new Float64Array(n);
  const target = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const e = entries[order[r]!]!;
    weight[r] = e.weight / max;
    position[r] = murmur3(e.id, OFFSET_SEED) % size;
    skip[r] = (murmur3(e.id, SKIP_SEED) % (size - 1)) + 1;
  }
  let filled = 0;
  for (let round = 1; filled < size; round++) {
    for (let r = 0; r < n && filled < size; r++) {
      if (round * weight[r]! < target[r]!) continue;
      target[r] = target[r]! + 1;
      let c = position[r]!;
      while (table[c] !== -1) c = (c + skip[r]!) % size;
      table[c] = order[r]!;
      position[r] = (c + skip[r]!) % size;
      filled++;
    }
  }
  return table;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
