export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = { baseMs: 500, capMs: 30_000 };

/**
 * "Full jitter": uniform in [0, min(cap, base·2^attempt)], so a fleet that lost
 * the console at the same moment does not reconnect in lock-step.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, rng: () => number = Math.random): number {
  const ceiling = Math.min(opts.capMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(rng() * ceiling);
}

/** After a rate-limit close (4429) the agent waits at least this long, plus up to as much again as jitter. */
export const RATE_LIMITED_BACKOFF_MS = 30_000;

/**
 * The wait after the console closed this agent for sending too much: never
 * less than the console asked for (Retry-After) nor RATE_LIMITED_BACKOFF_MS,
 * plus jitter, so a fleet the console slowed down does not return at once.
 */
export function rateLimitedDelay(retryAfterMs: number | undefined, rng: () => number = Math.random): number {
  const floor = Math.max(retryAfterMs ?? 0, RATE_LIMITED_BACKOFF_MS);
  return floor + Math.floor(rng() * RATE_LIMITED_BACKOFF_MS);
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
