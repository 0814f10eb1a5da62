import { type AgentLimits, FLOOD_WINDOW_MS } from "./agent-limits";
import { TokenBucket } from "./token-bucket";

/** What to do with one incoming frame. */
export type FrameVerdict = "accept" | "drop" | "close";

/**
 * Per-connection limits on what an agent sends, checked before a frame is
 * parsed: a frame over the frame or byte rate is dropped (and counted); an
 * agent with more than `floodDrops` drops within one window keeps flooding
 * and is to be closed. O(1) per frame.
 */
export class FrameLimiter {
  private readonly frames: TokenBucket;
  private readonly bytes: TokenBucket;
  private windowStart: number;
  private windowDrops = 0;
  /** Drops not reported yet (see takeDropped). */
  private unreported = 0;

  constructor(
    private readonly limits: AgentLimits,
    private readonly now: () => number = performance.now.bind(performance),
  ) {
    this.frames = new TokenBucket(limits.framesPerSecond, limits.frameBurst, now);
    this.bytes = new TokenBucket(limits.bytesPerSecond, limits.byteBurst, now);
    this.windowStart = now();
  }

  admit(byteLength: number): FrameVerdict {
    // Bytes are only charged for a frame the frame bucket let through.
    if (this.frames.take(1) && this.bytes.take(byteLength)) return "accept";
    const t = this.now();
    if (t - this.windowStart >= FLOOD_WINDOW_MS) {
      this.windowStart = t;
      this.windowDrops = 0;
    }
    this.windowDrops++;
    this.unreported++;
    return this.windowDrops > this.limits.floodDrops ? "close" : "drop";
  }

  /** Frames dropped since the last call. */
  takeDropped(): number {
    const n = this.unreported;
    this.unreported = 0;
    return n;
  }
}
