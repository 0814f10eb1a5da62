/**
 * Back-off for anything the agent retries: the console link (reconnects,
 * refused snapshots) and the HAProxy supervisor (restarts). It lives outside
 * both so neither owns the other's helper.
 */

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
