import { type AgentLimits, FLOOD_WINDOW_MS } from "./agent-limits";
import { TokenBucket } from "./token-bucket";

/** What to do with one incoming frame. */
export type FrameVerdict = "accept" | "drop" | "close";

/**
 * Per-connection limits on what an agent sends, checked before a frame is
 * parsed. A frame over the frame rate is dropped (and counted); an agent with
 * more than `floodDrops` drops within one window keeps flooding and is to be
 * closed. Bytes over the byte rate are not dropped but slow the reading down
 * (see pauseFor): a real agent replaying a large stats backlog loses nothing,
 * and a flooder's large frames cost the console no more than the rate. O(1) per frame.
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

  admit(): FrameVerdict {
    if (this.frames.take(1)) return "accept";
    const t = this.now();
    if (t - this.windowStart >= FLOOD_WINDOW_MS) {
      this.windowStart = t;
      this.windowDrops = 0;
    }
    this.windowDrops++;
    this.unreported++;
    return this.windowDrops > this.limits.floodDrops ? "close" : "drop";
  }

  /** Charges an accepted frame's bytes; returns how long to stop reading so the byte rate holds (0: no pause). */
  pauseFor(byteLength: number): number {
    return this.bytes.charge(byteLength);
  }

  /** Frames dropped since the last call. */
  takeDropped(): number {
    const n = this.unreported;
    this.unreported = 0;
    return n;
  }
}
