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
