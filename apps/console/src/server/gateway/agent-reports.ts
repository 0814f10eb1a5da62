import { type HealthEvent, isPrintableText } from "@fulcrum/protocol";
import { TokenBucket } from "./token-bucket";

/** Snapshot versions remembered per connection as sent (acks and nacks of others are not believed). */
const SENT_VERSIONS = 16;
/** Distinct answers (ack, or nack per reason) recorded per version; more are repeats of a broken agent. */
const ANSWERS_PER_VERSION = 4;
/** Backends whose last state is remembered per connection; past this the memory starts over. */
const HEALTH_KEYS = 20_000;
/** Longest id, address or timestamp in a health event that is stored. */
const MAX_FIELD = 256;

export type AnswerVerdict = "new" | "repeat" | "unsent" | "too-many";

/**
 * What one agent connection has reported, so that only news reaches the
 * database: an ack or nack is recorded once per version and reason, and only
 * for versions this connection sent; a health event repeating the backend's
 * last reported state is dropped, and state changes are capped per second.
 * Every check is O(1) and the memory is bounded.
 */
export class AgentReports {
  private readonly answers = new Map<number, Set<string>>();
  private readonly lastState = new Map<string, HealthEvent["state"]>();
  private readonly healthBudget: TokenBucket;

  constructor(limits: { healthEventsPerSecond: number; healthEventBurst: number }) {
    this.healthBudget = new TokenBucket(limits.healthEventsPerSecond, limits.healthEventBurst);
  }

  /** The console sent this version on this connection. */
  sent(version: number): void {
    if (this.answers.has(version)) return;
    this.answers.set(version, new Set());
    if (this.answers.size > SENT_VERSIONS) this.answers.delete(this.answers.keys().next().value!);
  }

  answer(kind: "ack" | "nack", version: number, reason = ""): AnswerVerdict {
    const seen = this.answers.get(version);
    if (!seen) return "unsent";
    const key = `${kind}\u0000${reason}`;
    if (seen.has(key)) return "repeat";
    if (seen.size >= ANSWERS_PER_VERSION) return "too-many";
    seen.add(key);
    return "new";
  }

  /**
   * The events worth storing: well-formed, and changing the backend's state.
   * `repeats` were dropped as no change, `refused` as malformed or over the budget.
   */
  health(events: readonly HealthEvent[]): { fresh: HealthEvent[]; repeats: number; refused: number } {
    const fresh: HealthEvent[] = [];
    let repeats = 0;
    let refused = 0;
    for (const e of events) {
      if (!wellFormed(e)) {
        refused++;
        continue;
      }
      const key = `${e.poolId}\u0000${e.backendId}`;
      if (this.lastState.get(key) === e.state) {
        repeats++;
        continue;
      }
      if (!this.healthBudget.take()) {
        refused++;
        continue;
      }
      if (this.lastState.size >= HEALTH_KEYS && !this.lastState.has(key)) this.lastState.clear();
      this.lastState.set(key, e.state);
      fresh.push(e);
    }
    return { fresh, repeats, refused };
  }
}

/** Ids, address and time reach the database and log lines: bounded, no control characters, a real time. */
function wellFormed(e: HealthEvent): boolean {
  for (const s of [e.poolId, e.backendId, e.address, e.at]) {
    if (s.length === 0 || !isPrintableText(s, MAX_FIELD)) return false;
  }
  if (e.port < 0 || e.port > 65535) return false;
  return Number.isFinite(Date.parse(e.at));
}

/** PostgreSQL text cannot hold NUL: one agent's NUL would fail the batch it is written in. */
export function storable(text: string): string {
  return text.includes("\u0000") ? text.replaceAll("\u0000", "\uFFFD") : text;
}
