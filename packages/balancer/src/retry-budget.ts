export interface RetryBudgetConfig {
  /** Retries allowed as a share of requests in the window (e.g. 20). */
  readonly budgetPercent: number;
  /** Retries always allowed per second of window, so a quiet pool can still retry (default 3). */
  readonly minRetriesPerSecond?: number;
  /** Sliding window length (default 10 s), split into `buckets` slices (default 10). */
  readonly windowMs?: number;
  readonly buckets?: number;
}

/**
 * Retry budget (Finagle/Linkerd style) over a sliding window of fixed slices:
 * a retry is allowed while
 *   retries in window + 1 ≤ requests in window × budgetPercent / 100
 *                           + minRetriesPerSecond × window seconds.
 * Requests are first attempts only (recordRequest); tryRetry() both checks and
 * counts. Pure and allocation-free per call: `now` is injected (ms, monotonic).
 */
export class RetryBudget {
  private readonly requests: Float64Array;
  private readonly retries: Float64Array;
  private readonly sliceMs: number;
  private readonly ratio: number;
  private readonly floor: number;
  /** Slice number (floor(now / sliceMs)) of the newest slice; slices older than the window are zeroed lazily. */
  private head = Number.NEGATIVE_INFINITY;
  private requestSum = 0;
  private retrySum = 0;

  constructor(config: RetryBudgetConfig) {
    const windowMs = Math.max(1, config.windowMs ?? 10_000);
    const buckets = Math.max(1, Math.floor(config.buckets ?? 10));
    this.sliceMs = windowMs / buckets;
    this.requests = new Float64Array(buckets);
    this.retries = new Float64Array(buckets);
    this.ratio = Math.max(0, config.budgetPercent) / 100;
    this.floor = Math.max(0, config.minRetriesPerSecond ?? 3) * (windowMs / 1000);
    if (!Number.isFinite(this.ratio) || !Number.isFinite(this.floor))
      throw new RangeError("retry budget must be finite");
  }

  recordRequest(now: number): void {
    const i = this.advance(now);
    this.requests[i]! += 1;
    this.requestSum++;
  }

  /** True (and the retry is counted) if the budget allows one more retry now. */
  tryRetry(now: number): boolean {
    const i = this.advance(now);
    if (this.retrySum + 1 > this.requestSum * this.ratio + this.floor) return false;
    this.retries[i]! += 1;
    this.retrySum++;
    return true;
  }

  /** Same test as tryRetry without spending anything. */
  canRetry(now: number): boolean {
    this.advance(now);
    return this.retrySum + 1 <= this.requestSum * this.ratio + this.floor;
  }

  /** Counts in the current window, for metrics. */
  stats(now: number): { requests: number; retries: number } {
    this.advance(now);
    return { requests: this.requestSum, retries: this.retrySum };
  }

  /** Moves the window to `now` and returns the slot of the current slice. A clock going backwards stays in the newest slice. */
  private advance(now: number): number {
    const n = this.requests.length;
    const slice = Math.floor(now / this.sliceMs);
    if (slice > this.head) {
      if (slice - this.head >= n) {
        this.requests.fill(0);
        this.retries.fill(0);
        this.requestSum = 0;
        this.retrySum = 0;
      } else {
        for (let s = this.head + 1; s <= slice; s++) {
          const j = mod(s, n);
          this.requestSum -= this.requests[j]!;
          this.retrySum -= this.retries[j]!;
          this.requests[j] = 0;
          this.retries[j] = 0;
        }
      }
      this.head = slice;
    }
    return mod(this.head, n);
  }
}

const mod = (a: number, n: number): number => ((a % n) + n) % n;
