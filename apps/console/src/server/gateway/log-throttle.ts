import { escapeUnprintable } from "@fulcrum/protocol";
import type { Logger } from "../logger";

type Level = "info" | "warn" | "error";

interface Window {
  start: number;
  lines: number;
  suppressed: number;
}

/**
 * Log lines about one agent, at most `perWindow` per reason per window; the
 * rest are counted and the next line of that reason says how many were
 * suppressed. One per connection, so its reasons (a fixed set) bound its size.
 */
export class LogThrottle {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly log: Logger,
    private readonly opts: { windowMs: number; perWindow: number } = { windowMs: 10_000, perWindow: 5 },
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a line for `reason` may be written now; a suppressed one is counted. */
  allow(reason: string): { ok: true; suppressed: number } | { ok: false } {
    const t = this.now();
    let w = this.windows.get(reason);
    if (!w || t - w.start >= this.opts.windowMs) {
      const suppressed = w?.suppressed ?? 0;
      w = { start: t, lines: 0, suppressed: 0 };
      this.windows.set(reason, w);
      w.lines++;
      return { ok: true, suppressed };
    }
    if (w.lines < this.opts.perWindow) {
      w.lines++;
      return { ok: true, suppressed: 0 };
    }
    w.suppressed++;
    return { ok: false };
  }

  /** Writes `msg` unless its reason is over the limit; returns whether it did. */
  write(level: Level, reason: string, msg: string, fields: Record<string, unknown>): boolean {
    const a = this.allow(reason);
    if (!a.ok) return false;
    this.log[level](msg, a.suppressed > 0 ? { ...fields, suppressed: a.suppressed } : fields);
    return true;
  }

  /** Lines suppressed and not yet reported, by reason (used when the connection ends). */
  pending(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [reason, w] of this.windows) if (w.suppressed > 0) out[reason] = w.suppressed;
    return out;
  }
}

/**
 * Text from an agent made safe for one log line: control characters (CR, LF,
 * NUL...) escaped, at most `max` characters. The agent chooses these strings.
 */
export function logSafe(text: string, max = 300): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return escapeUnprintable(cut);
}
