import type { CaBundleMaterial, Snapshot, TlsMaterial } from "@fulcrum/protocol";
import type { ApplyOutcome } from "./console/connection";
import { guarded } from "./guard";
import type { Logger } from "./log";
import { type BackoffOptions, backoffDelay } from "./retry/backoff";
import type { ApplySnapshot } from "./snapshot-applier";

/** Retries of a snapshot refused for a transient reason: full jitter, from 1 s up to 60 s apart. */
export const DEFAULT_APPLY_RETRY: Readonly<BackoffOptions> = { baseMs: 1000, capMs: 60_000 };
/** Never closer than this, whatever the jitter draws. */
const MIN_RETRY_MS = 50;

/** A refusal that may pass without a new snapshot: a port or address another process holds or that is not up yet. */
const TRANSIENT_CODES = new Set(["EADDRINUSE", "EADDRNOTAVAIL"]);
const TRANSIENT_TEXT = /EADDRINUSE|EADDRNOTAVAIL|Address already in use|Cannot assign requested address/;

export function isTransientApplyError(e: unknown): boolean {
  // A data-plane worker's refusal (workers/) says itself whether it was transient.
  if (typeof (e as { transient?: unknown })?.transient === "boolean")
    return (e as { transient: boolean }).transient;
  for (let c = e, depth = 0; c !== undefined && c !== null && depth < 5; depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === "string" && TRANSIENT_CODES.has(code)) return true;
    c = (c as { cause?: unknown }).cause;
  }
  const code = (e as { code?: unknown })?.code;
  return (
    (code === "listener_bind_failed" || code === "haproxy_failed") &&
    e instanceof Error &&
    TRANSIENT_TEXT.test(e.message)
  );
}

/** The applier marks refusals worth retrying (snapshot-applier.ts); the mark survives wrappers that pass the object on. */
export const isTransientOutcome = (r: ApplyOutcome): boolean =>
  !r.ok && (r as { transient?: unknown }).transient === true;

export interface SnapshotRetryOptions {
  apply: ApplySnapshot;
  /** Each retry's outcome goes to the console as an ack or nack (ConsoleConnection.report). */
  report?: (version: number, outcome: ApplyOutcome) => void;
  log: Logger;
  backoff?: BackoffOptions;
  rng?: () => number;
}

/**
 * Applies snapshots; one refused for a transient reason (a port another
 * process holds) is applied again with back-off until it applies, and each
 * failure is reported as today's NACK. A newer snapshot, or stop(), ends the
 * retries of the older one: only the latest snapshot is ever retried.
 */
export class SnapshotRetry {
  private timer: NodeJS.Timeout | undefined;
  /** Bumped by every apply() and stop(), so a retry of an older snapshot knows it is stale. */
  private generation = 0;
  private readonly backoff: BackoffOptions;

  constructor(private readonly opts: SnapshotRetryOptions) {
    this.backoff = opts.backoff ?? DEFAULT_APPLY_RETRY;
  }

  readonly apply: ApplySnapshot = async (snapshot, tlsMaterial, caBundles) => {
    const gen = this.cancel();
    const r = await this.opts.apply(snapshot, tlsMaterial, caBundles);
    if (isTransientOutcome(r) && gen === this.generation)
      this.schedule(snapshot, { tlsMaterial, caBundles }, gen, 0);
    return r;
  };

  /** Retries are pending (for tests and status). */
  get retrying(): boolean {
    return this.timer !== undefined;
  }

  stop(): void {
    this.cancel();
  }

  private cancel(): number {
    clearTimeout(this.timer);
    this.timer = undefined;
    return ++this.generation;
  }

  private schedule(
    snapshot: Snapshot,
    material: {
      tlsMaterial: readonly TlsMaterial[] | undefined;
      caBundles: readonly CaBundleMaterial[] | undefined;
    },
    gen: number,
    attempt: number,
  ): void {
    const { log } = this.opts;
    const delay = Math.max(MIN_RETRY_MS, backoffDelay(attempt, this.backoff, this.opts.rng));
    log.warn("snapshot refused for a transient reason; will retry", {
      version: snapshot.version,
      attempt: attempt + 1,
      inMs: delay,
    });
    this.timer = setTimeout(
      guarded(log, `retry of snapshot ${snapshot.version}`, async () => {
        this.timer = undefined;
        if (gen !== this.generation) return;
        const r = await this.opts.apply(snapshot, material.tlsMaterial, material.caBundles);
        // A newer snapshot arrived while this one was being applied: it decides, and it reports.
        if (gen !== this.generation) return;
        this.opts.report?.(snapshot.version, r);
        if (r.ok) log.info("snapshot applied on retry", { version: snapshot.version, attempts: attempt + 1 });
        else if (isTransientOutcome(r)) this.schedule(snapshot, material, gen, attempt + 1);
      }),
      delay,
    );
  }
}
