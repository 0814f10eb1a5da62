import { TokenBucket } from "./token-bucket";

/** Keys (credentials or addresses) tracked at most; past this the oldest are forgotten first. */
const MAX_KEYS = 10_000;

/**
 * One token bucket per key, for the gateway's handshake: how often one
 * credential may connect (each connection costs a database lookup and a
 * snapshot sent), and how often one address may fail to authenticate. Memory
 * is bounded; forgetting a key only gives it a fresh burst.
 */
export class UpgradeLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = performance.now.bind(performance),
  ) {}

  /** Takes one token for `key`; returns 0 when allowed, else the milliseconds until the next token. */
  take(key: string): number {
    return this.bucket(key).take() ? 0 : this.retryMs();
  }

  /** Like take, without taking: for limits charged only on failure (checked before the work, charged after). */
  check(key: string): number {
    return this.buckets.get(key)?.has() === false ? this.retryMs() : 0;
  }

  private retryMs(): number {
    return Math.ceil(1000 / this.ratePerSecond);
  }

  private bucket(key: string): TokenBucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.ratePerSecond, this.burst, this.now);
      this.buckets.set(key, bucket);
      if (this.buckets.size > MAX_KEYS) this.buckets.delete(this.buckets.keys().next().value!);
    }
    return bucket;
  }
}
