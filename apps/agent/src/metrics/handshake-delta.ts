import { HANDSHAKE_COUNTERS, type HandshakeDelta } from "@fulcrum/protocol";
import type { HandshakeSnapshot } from "../dataplane/stats/handshake-counters";

/** The engine's cumulative handshake counters under the stats point's names. */
function flatHandshakes(h: HandshakeSnapshot): HandshakeDelta {
  return {
    handshakes: h.handshakes,
    resumed: h.resumed,
    failedNoSharedCipher: h.failures.noSharedCipher,
    failedProtocolVersion: h.failures.protocolVersion,
    failedUnknownName: h.failures.unknownName,
    failedOther: h.failures.other,
  };
}

/**
 * Per-interval TLS handshake deltas of each TLS listener, for the stats
 * point's `listeners[id].tls`. A counter that went down means the listener's
 * counters were recreated (the id left and came back): all of `cur` is new.
 */
export class HandshakeDeltas {
  private prev = new Map<string, HandshakeDelta>();
  private next = new Map<string, HandshakeDelta>();

  /** The delta since the last interval; undefined when nothing happened (and `full` is not asked). */
  delta(id: string, cur: HandshakeSnapshot, full: boolean): HandshakeDelta | undefined {
    const now = flatHandshakes(cur);
    this.next.set(id, now);
    const before = this.prev.get(id);
    const reset = before === undefined || HANDSHAKE_COUNTERS.some((f) => now[f] < before[f]);
    const out = { ...now };
    if (!reset) for (const f of HANDSHAKE_COUNTERS) out[f] = now[f] - before[f];
    return full || HANDSHAKE_COUNTERS.some((f) => out[f] !== 0) ? out : undefined;
  }

  /** Ends an interval: listeners not seen in it are forgotten. */
  rotate(): void {
    this.prev = this.next;
    this.next = new Map();
  }
}
