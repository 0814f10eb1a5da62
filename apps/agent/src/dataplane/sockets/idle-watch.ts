/** A connection whose inactivity a ticker checks. */
export interface IdleEntry {
  /** Set on every read, write progress or drain; cleared by the ticker. */
  active: boolean;
  /** When the entry counts as idle unless something moves before; 0 = re-arm at the next tick. */
  idleAt: number;
  readonly idleMs: number;
  onIdle(): void;
}

/**
 * Idle timeouts for many connections on one ticker. `socket.setTimeout`
 * re-arms a timer on every read and every write (a timer-list insert and a
 * clock read each); here activity is a boolean store and the check runs every
 * `tickMs`, so a timeout fires between idleMs and idleMs + 2 ticks after the
 * last byte.
 */
export class IdleWatch {
  private readonly entries = new Set<IdleEntry>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly tickMs: number) {}

  add(e: IdleEntry): void {
    if (e.idleMs <= 0) return;
    this.entries.add(e);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.tick(), this.tickMs);
      this.timer.unref();
    }
  }

  delete(e: IdleEntry): void {
    this.entries.delete(e);
  }

  get size(): number {
    return this.entries.size;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    if (this.entries.size === 0) {
      this.stop();
      return;
    }
    const now = Date.now();
    for (const e of this.entries) {
      if (e.active || e.idleAt === 0) {
        e.active = false;
        e.idleAt = now + e.idleMs;
      } else if (now >= e.idleAt) {
        e.idleAt = 0;
        e.onIdle();
      }
    }
  }
}
