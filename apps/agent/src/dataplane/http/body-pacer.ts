/**
 * Request body pacing for the node:http front end (the h1 front end checks
 * the same on its ticker): a pause longer than `bodyMs` between two reads, or
 * an average rate under `minBytesPerSecond` once the grace period is over,
 * ends the request. Time the proxy itself held the body paused (a slow
 * backend) counts for neither.
 */

/** A body is held to the minimum rate only after this long (Kestrel's grace period). */
export const BODY_RATE_GRACE_MS = 5000;
/** How often a streaming body is checked at most. */
export const BODY_CHECK_MS = 1000;

export type BodyPaceFailure = "body-timeout" | "body-too-slow";

export class BodyPacer {
  private timer: NodeJS.Timeout | undefined;
  private read = 0;
  private startAt = 0;
  private checkedAt = 0;
  private lastReadAt = 0;
  private readSinceCheck = false;

  constructor(
    private readonly bodyMs: number,
    private readonly minBytesPerSecond: number,
    /** True while the proxy holds the body paused (back-pressure). */
    private readonly pausedByUs: () => boolean,
    private readonly onFail: (why: BodyPaceFailure) => void,
  ) {}

  start(): void {
    const now = Date.now();
    this.startAt = now;
    this.checkedAt = now;
    this.lastReadAt = now;
    this.arm();
  }

  onBytes(n: number): void {
    this.read += n;
    this.readSinceCheck = true;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    this.timer = setTimeout(() => this.check(), Math.min(this.bodyMs, BODY_CHECK_MS));
    this.timer.unref();
  }

  private check(): void {
    this.timer = undefined;
    const now = Date.now();
    if (this.pausedByUs()) {
      this.startAt += now - this.checkedAt;
      this.lastReadAt = now;
    } else if (this.readSinceCheck) {
      this.lastReadAt = now;
    } else if (now - this.lastReadAt >= this.bodyMs) {
      this.onFail("body-timeout");
      return;
    }
    this.readSinceCheck = false;
    this.checkedAt = now;
    const elapsed = now - this.startAt;
    const min = this.minBytesPerSecond;
    if (min > 0 && elapsed >= BODY_RATE_GRACE_MS && this.read * 1000 < min * elapsed) {
      this.onFail("body-too-slow");
      return;
    }
    this.arm();
  }
}
