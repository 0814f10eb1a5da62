/**
 * Rapid reset (CVE-2023-44487): a client opens streams and cancels them at
 * once, so it never counts against maxConcurrentStreams while every stream
 * costs the proxy (and possibly a backend) a request. A token bucket per
 * session: each stream the client resets before its response ended takes a
 * token; the bucket holds `burst` and refills `perSecond`. Empty: the session
 * ends with GOAWAY ENHANCE_YOUR_CALM. Ordinary cancellations (a browser
 * navigating away) stay far below it.
 */
export class ResetGuard {
  private tokens: number;
  private last: number;

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    now = Date.now(),
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** One client reset; false when the budget is spent. */
  take(now = Date.now()): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Bounds from the listener's stream limit: a full window's worth twice, refilled once a second. */
export const resetBudget = (maxConcurrentStreams: number) => ({
  burst: Math.max(2 * maxConcurrentStreams, 20),
  perSecond: Math.max(maxConcurrentStreams, 10),
});
