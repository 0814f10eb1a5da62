import type { Snapshot } from "@fulcrum/protocol";
import type { AppliedSnapshot } from "../engines/engine";

const MAX_CANDIDATES = 4;

/**
 * Which full snapshot the engine serves: the engine only says version and
 * hash, so every snapshot handed to it is offered here first and picked once
 * `engine.applied` names it (a rejected one is never picked).
 */
export class AppliedSnapshots {
  private readonly candidates = new Map<string, Snapshot>();
  private current: Snapshot | undefined;

  /** Call before engine.apply(snapshot). */
  offer(snapshot: Snapshot): void {
    const k = `${snapshot.version}|${snapshot.hash}`;
    this.candidates.delete(k);
    this.candidates.set(k, snapshot);
    while (this.candidates.size > MAX_CANDIDATES) {
      this.candidates.delete(this.candidates.keys().next().value as string);
    }
  }

  /** The snapshot matching what the engine reports as applied; the last known one if it cannot tell. */
  resolve(applied: AppliedSnapshot | undefined): Snapshot | undefined {
    if (!applied) return this.current;
    const c = this.current;
    if (c && c.version === applied.version && c.hash === applied.hash) return c;
    const k = `${applied.version}|${applied.hash}`;
    const found = this.candidates.get(k);
    if (found) {
      // Everything offered before it is history now.
      for (const key of [...this.candidates.keys()]) {
        this.candidates.delete(key);
        if (key === k) break;
      }
      this.current = found;
    }
    return this.current;
  }
}
