/** First retry after a failed ACME attempt; doubled per consecutive failure. */
export const ACME_FIRST_RETRY_MS = 60_000;
/** Never wait longer than this between attempts (a CA outage, a DNS mistake fixed later). */
export const ACME_MAX_RETRY_MS = 6 * 60 * 60_000;

/**
 * How long to wait after the `failures`-th consecutive failure: 1 min, 2, 4, ...
 * up to 6 h. Pure, so the scheduler's back-off is tested without a clock; no
 * jitter because one console claims each certificate at a time (scheduler.ts).
 */
export function acmeRetryDelayMs(failures: number): number {
  if (failures <= 0) return 0;
  const exp = Math.min(failures - 1, 30);
  return Math.min(ACME_FIRST_RETRY_MS * 2 ** exp, ACME_MAX_RETRY_MS);
}

/** Renewal at two thirds of the lifetime (Let's Encrypt's 90 days: day 60). */
export function renewalTime(notBefore: Date, notAfter: Date): Date {
  const life = notAfter.getTime() - notBefore.getTime();
  return new Date(notBefore.getTime() + Math.floor((life * 2) / 3));
}
