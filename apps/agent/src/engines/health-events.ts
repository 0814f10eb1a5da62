import type { HealthEvent } from "@fulcrum/protocol";

export type HealthEventListener = (event: HealthEvent) => void;

/** A tiny synchronous emitter: the engine's health/drain transitions, for the console link and the log. */
export class HealthEvents {
  private readonly listeners = new Set<HealthEventListener>();

  /** Returns the unsubscribe function. */
  subscribe(fn: HealthEventListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(event: HealthEvent): void {
    for (const fn of this.listeners) {
      try {
        fn(event);
      } catch {
        // A listener's bug must not break the data plane.
      }
    }
  }
}
