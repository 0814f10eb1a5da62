import type { BackendView } from "../src/types";

export const backend = (id: string, over: Partial<BackendView> = {}): BackendView => ({
  id,
  weight: 1,
  state: "enabled",
  backup: false,
  healthy: true,
  inFlight: 0,
  ...over,
});

export const picks = (n: number, pick: () => BackendView | undefined): (string | undefined)[] =>
  Array.from({ length: n }, () => pick()?.id);

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1), so property tests are reproducible. */
export function seededRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Deterministic, varied keys that look like client addresses. */
export const keys = (n: number, prefix = "10."): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);

export function shares(ids: readonly (string | undefined)[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id ?? "<none>", (counts.get(id ?? "<none>") ?? 0) + 1);
  for (const [id, c] of counts) counts.set(id, c / ids.length);
  return counts;
}
