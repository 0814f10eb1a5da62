import { EventEmitter, on } from "node:events";

/**
 * When a second counts as complete, and the announcement of each one to the
 * live streams (graphs, pool cards). Apart from the ring because it is about
 * time, not data: a second is complete COMPLETE_AFTER_MS after it ends, late
 * enough for every agent's point of it to have arrived.
 */

/** A second is complete (live yields it) this long after it ends. */
export const COMPLETE_AFTER_MS = 1500;

/** The newest complete second at `now` (epoch ms). */
export const completeSecAt = (now: number) => Math.floor((now - COMPLETE_AFTER_MS) / 1000) - 1;

export class LiveSeconds {
  private readonly emitter = new EventEmitter();
  private readonly closing = new AbortController();
  private lastEmitted: number;

  constructor(complete: number) {
    this.emitter.setMaxListeners(0);
    this.lastEmitted = complete;
  }

  /** Announces the seconds completed since the last call, up to `complete` (at most the last 5). */
  announce(complete: number): void {
    if (complete <= this.lastEmitted) return;
    for (let s = Math.max(this.lastEmitted + 1, complete - 4); s <= complete; s++)
      this.emitter.emit("second", s);
    this.lastEmitted = complete;
  }

  /** Yields each completed second until `signal` aborts or `close` is called. */
  async *seconds(signal?: AbortSignal): AsyncGenerator<number> {
    const sig = signal ? AbortSignal.any([signal, this.closing.signal]) : this.closing.signal;
    if (sig.aborted) return;
    try {
      for await (const [sec] of on(this.emitter, "second", { signal: sig })) yield sec as number;
    } catch (err) {
      if (sig.aborted) return;
      throw err;
    }
  }

  /** Ends every stream. */
  close(): void {
    this.closing.abort();
  }
}
