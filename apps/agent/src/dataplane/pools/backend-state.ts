import { createHash } from "node:crypto";
import { createHistogram } from "@fulcrum/protocol";
import { BackendCounters } from "../stats/counters";

/**
 * What the agent knows about one backend address, whatever pools or
 * snapshots list it: in-flight count, latency, counters, the time it last
 * became available (slow start). Keyed by "address:port", so a backend
 * present before and after a snapshot swap keeps all of it.
 */
export class BackendState {
  /** Leases held: HTTP attempts in progress, upgrade tunnels and TCP connections. */
  inFlight = 0;
  /** Moving average of response-head latency (ms); undefined until the first response. */
  ewmaMs: number | undefined;
  /** When the backend last came back (health up, ejection over); undefined = never away. */
  availableSince: number | undefined;
  /** Opaque sticky-cookie value naming this backend: a short hash of the key, never the address. */
  readonly cookieValue: string;
  readonly counters = new BackendCounters(createHistogram());
  /** Set when the last snapshot no longer lists it; dropped from the registry once idle. */
  removed = false;

  constructor(
    readonly key: string,
    readonly address: string,
    readonly port: number,
    private readonly onIdle: (s: BackendState) => void,
  ) {
    this.cookieValue = createHash("sha256").update(key).digest("base64url").slice(0, 16);
  }

  acquire(): void {
    this.inFlight++;
    this.counters.attempts++;
  }

  release(): void {
    this.inFlight--;
    if (this.inFlight === 0) this.onIdle(this);
  }
}

export const upstreamKey = (b: { address: string; port: number }) =>
  b.address.includes(":") ? `[${b.address}]:${b.port}` : `${b.address}:${b.port}`;

export type IdleHook = (s: BackendState) => void;

export class BackendRegistry {
  private readonly states = new Map<string, BackendState>();
  private readonly idleHooks = new Set<IdleHook>();

  /** Called whenever a backend's in-flight count drops to zero (drain completion, queue pumps). */
  onIdle(fn: IdleHook): void {
    this.idleHooks.add(fn);
  }

  obtain(address: string, port: number): BackendState {
    const key = upstreamKey({ address, port });
    let s = this.states.get(key);
    if (!s) {
      s = new BackendState(key, address, port, (st) => this.idle(st));
      this.states.set(key, s);
    }
    s.removed = false;
    return s;
  }

  get(key: string): BackendState | undefined {
    return this.states.get(key);
  }

  all(): IterableIterator<BackendState> {
    return this.states.values();
  }

  /** After a swap: backends no longer listed go once their in-flight work is done. */
  retainOnly(keys: ReadonlySet<string>): void {
    for (const [key, s] of this.states) {
      if (keys.has(key)) continue;
      s.removed = true;
      if (s.inFlight === 0) this.states.delete(key);
    }
  }

  private idle(s: BackendState): void {
    if (s.removed && this.states.get(s.key) === s) this.states.delete(s.key);
    for (const fn of this.idleHooks) fn(s);
  }
}
