import type { CaBundleMaterial, Snapshot, TlsMaterial } from "@fulcrum/protocol";
import type { ApplyOutcome } from "./console/connection";
import type { Engine } from "./engines/engine";
import { errorCode, errorMessage } from "./errors";
import type { Logger } from "./log";
import { isTransientApplyError } from "./snapshot-retry";
import type { SnapshotStore } from "./state/snapshot-store";

/**
 * Applies a snapshot to the engine and, once it serves, remembers it as the
 * last good one. Never rejects: the outcome becomes an ack or a nack; a nack
 * for a reason that may pass by itself is marked `transient` (SnapshotRetry).
 */
/** Applies a snapshot with the material sent next to it (the snapshot message's `tlsMaterial` and `caBundles`). */
export type ApplySnapshot = (
  snapshot: Snapshot,
  tlsMaterial?: readonly TlsMaterial[],
  caBundles?: readonly CaBundleMaterial[],
) => Promise<ApplyOutcome>;

export function snapshotApplier(
  engine: Engine,
  store: SnapshotStore | undefined,
  log: Logger,
): ApplySnapshot {
  return async (snapshot, tlsMaterial = [], caBundles = []) => {
    const applied = engine.applied;
    if (applied?.version === snapshot.version && applied.hash === snapshot.hash) {
      return { ok: true, version: snapshot.version, hash: snapshot.hash };
    }
    try {
      await engine.apply(snapshot, tlsMaterial, caBundles);
    } catch (e) {
      const reason = `${errorCode(e)}: ${errorMessage(e)}`;
      const transient = isTransientApplyError(e);
      log.error("snapshot rejected; still serving the previous one", {
        version: snapshot.version,
        serving: applied?.version ?? "none",
        reason,
        transient,
      });
      const outcome: ApplyOutcome & { transient: boolean } = { ok: false, reason, transient };
      return outcome;
    }
    log.info("applied snapshot", { version: snapshot.version, hash: snapshot.hash.slice(0, 12) });
    // Serving matters more than remembering: a failed save is logged, not nacked.
    await store
      ?.save(snapshot, tlsMaterial, caBundles)
      .catch((e) => log.error("could not store snapshot", { error: errorMessage(e) }));
    return { ok: true, version: snapshot.version, hash: snapshot.hash };
  };
}

/**
 * The version of a `snapshot` frame that failed to decode, when it has a
 * readable one: such a snapshot is nacked (besides the `error` reply), so the
 * console can show why this agent stays on its version.
 */
export function refusedSnapshotVersion(raw: string): number | undefined {
  try {
    const m = JSON.parse(raw) as { type?: unknown; payload?: { snapshot?: { version?: unknown } } };
    const v = m?.type === "snapshot" ? m.payload?.snapshot?.version : undefined;
    return typeof v === "number" && Number.isSafeInteger(v) && v >= 1 ? v : undefined;
  } catch {
    return undefined;
  }
}
