/** Entries kept at most; past this the oldest penalties are forgotten first. */
const MAX_ENTRIES = 10_000;

/**
 * Agents closed for flooding, by credential hash, and until when their
 * reconnects are refused. Checked at the HTTP upgrade before the database is
 * asked anything, so a flooder that reconnects at once costs a hash and a map lookup.
 */
export class FloodPenalty {
  private readonly until = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  add(key: string, ms: number): void {
    this.until.delete(key);
    this.until.set(key, this.now() + ms);
    if (this.until.size > MAX_ENTRIES) this.prune();
  }

  /** Milliseconds this credential must still wait; 0 when it may connect. */
  remaining(key: string): number {
    const until = this.until.get(key);
    if (until === undefined) return 0;
    const left = until - this.now();
    if (left > 0) return left;
    this.until.delete(key);
    return 0;
  }

  private prune(): void {
    const t = this.now();
    for (const [key, until] of this.until) if (until <= t) this.until.delete(key);
    // Insertion order is oldest first.
    while (this.until.size > MAX_ENTRIES) this.until.delete(this.until.keys().next().value!);
  }
}
