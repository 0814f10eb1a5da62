/**
 * A token bucket: holds at most `burst` tokens and gains `ratePerSecond` a
 * second. O(1) per call, no timers: the refill is computed from the clock.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = performance.now.bind(performance),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes `n` tokens if there are that many; otherwise takes none. */
  take(n = 1): boolean {
    this.refill();
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Whether `n` tokens are there, without taking them. */
  has(n = 1): boolean {
    this.refill();
    return this.tokens >= n;
  }

  /** Takes `n` tokens even into debt; returns the milliseconds until the debt is paid (0: none). */
  charge(n: number): number {
    this.refill();
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.ratePerSecond) * 1000;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
    this.last = t;
  }
}
