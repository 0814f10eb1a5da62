import {
  CONSISTENT_HASH_ALGORITHMS,
  CONSISTENT_HASH_KEYS,
  type ConsistentHashOptions,
} from "@fulcrum/protocol";
import { pickWeightedRandom, weightedEligible } from "../eligible";
import { murmur3 } from "../hash";
import { buildMaglev, MAGLEV_TABLE_SIZE } from "../hashing/maglev";
import { buildRing, type Ring, ringLookup } from "../hashing/ring";
import { enumOption, PolicyOptionsError, stringOption } from "../options";
import type { BackendView, PickContext, Policy, PolicyFactory } from "../types";

/**
 * The options as @fulcrum/protocol's consistentHashOptionsSchema defines them,
 * checked again here without zod so a policy built from unchecked input
 * throws PolicyOptionsError (the agent's NACK reason) instead of misbehaving.
 */
export function parseConsistentHashOptions(raw?: Readonly<Record<string, unknown>>): ConsistentHashOptions {
  const name = "consistent_hash";
  const key = enumOption(name, raw, "key", CONSISTENT_HASH_KEYS, "client_ip");
  const algorithm = enumOption(name, raw, "algorithm", CONSISTENT_HASH_ALGORITHMS, "ring");
  const keyName = stringOption(name, raw, "keyName");
  if ((key === "header" || key === "cookie") && keyName === undefined) {
    throw new PolicyOptionsError(name, `option keyName is required when key is ${key}`);
  }
  return keyName === undefined ? { key, algorithm } : { key, keyName, algorithm };
}

/**
 * The table weight of a backend. A configured weight is used as is; a
 * slow-start weight in flight is rounded to 1/32 of a doubling (~2%) so a
 * ramp rebuilds the table ~100 times, not on every pick.
 */
function tableWeight(b: BackendView): number {
  const w = b.effectiveWeight ?? b.weight;
  if (b.effectiveWeight === undefined || w === b.weight) return w;
  return 2 ** (Math.round(Math.log2(w) * 32) / 32);
}

/**
 * Hashes PickContext.key onto the eligible backends with a ring (virtual
 * nodes ∝ weight, binary search per pick) or a Maglev table (65537 slots, one
 * array read per pick). The table is rebuilt only when the eligible ids or
 * their (rounded) weights change. Without a key the pick is weighted random.
 */
export class ConsistentHash implements Policy {
  private ids: string[] = [];
  private weights: number[] = [];
  private ring: Ring | undefined;
  private maglev: Int32Array | undefined;

  constructor(
    private readonly rng: () => number,
    readonly options: ConsistentHashOptions,
  ) {}

  pick<B extends BackendView>(ctx: PickContext<B>): B | undefined {
    const candidates = weightedEligible(ctx.backends);
    if (ctx.key === undefined) return pickWeightedRandom(candidates, this.rng);
    if (candidates.length <= 1) return candidates[0];
    this.refresh(candidates);
    const h = murmur3(ctx.key);
    const index = this.maglev ? this.maglev[h % this.maglev.length]! : ringLookup(this.ring!, h);
    return candidates[index];
  }

  private refresh(candidates: readonly BackendView[]): void {
    let same =
      candidates.length === this.ids.length && (this.ring !== undefined || this.maglev !== undefined);
    for (let i = 0; same && i < candidates.length; i++) {
      same = candidates[i]!.id === this.ids[i] && tableWeight(candidates[i]!) === this.weights[i];
    }
    if (same) return;
    this.ids = candidates.map((b) => b.id);
    this.weights = candidates.map(tableWeight);
    const entries = candidates.map((b, i) => ({ id: b.id, weight: this.weights[i]! }));
    if (this.options.algorithm === "maglev") this.maglev = buildMaglev(entries, MAGLEV_TABLE_SIZE);
    else this.ring = buildRing(entries);
  }
}

export const consistentHash: PolicyFactory = ({ rng, options }) =>
  new ConsistentHash(rng, parseConsistentHashOptions(options));
