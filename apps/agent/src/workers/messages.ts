import type { HealthEvent } from "@fulcrum/protocol";
import type { Engine } from "../engines/engine";
import type { EngineStats } from "../engines/engine-stats";

/**
 * The arguments of Engine.apply, passed to every worker as they are: the
 * whole snapshot message (snapshot, tlsMaterial and whatever is added next to
 * them) crosses the IPC channel without this file naming its fields.
 */
export type ApplyArgs = Parameters<Engine["apply"]>;

/**
 * Engine methods besides apply that change what workers serve (the ticket-key
 * ring, and whatever joins it): forwarded to every worker, and the last call of
 * each replayed to a worker that starts later.
 */
export const FORWARDED_CALLS = ["setTicketKeys"] as const;
export type ForwardedCall = (typeof FORWARDED_CALLS)[number];
export type ForwardedArgs<M extends ForwardedCall> = Parameters<NonNullable<Engine[M]>>;

/** A health-check verdict reached by the leading worker (HealthRole "lead"). */
export interface Verdict {
  id: string;
  state: "up" | "down";
  reason: string;
}

/** A source-IP pin as the node-wide table holds it: client IP, backend id, time left (ms). */
export type Pin = [clientIp: string, backendId: string, ttlLeftMs: number];

/** Control process → worker. `seq` pairs a prepare with its answer, commit and abort. */
export type ToWorker =
  | { t: "prepare"; seq: number; args: ApplyArgs }
  | { t: "commit"; seq: number }
  | { t: "abort"; seq: number }
  | { t: "verdicts"; verdicts: Verdict[] }
  | { t: "pins"; pool: string; pins: Pin[] }
  | { t: "call"; seq: number; method: ForwardedCall; args: unknown[] }
  | { t: "stop" };

/** Worker → control process. */
export type FromWorker =
  | { t: "up" }
  | { t: "prepared"; seq: number }
  | { t: "refused"; seq: number; code: string; message: string; transient: boolean }
  | { t: "committed"; seq: number }
  | { t: "called"; seq: number; error?: { code: string; message: string } }
  | { t: "aborted"; seq: number }
  | { t: "beat"; stats: EngineStats; cpuMicros: number; loopDelayMs: number }
  | { t: "verdicts"; verdicts: Verdict[] }
  | { t: "health"; event: HealthEvent }
  /** A new source-IP pin (`replaced`: the backend the client was pinned to before, if any). */
  | { t: "pin"; pool: string; client: string; backend: string; replaced?: string }
  /** Clients served by their pin since the last touch (their sliding TTL runs on). */
  | { t: "touch"; pool: string; clients: string[] };

const FROM_WORKER_TYPES = new Set([
  "up",
  "prepared",
  "refused",
  "committed",
  "called",
  "aborted",
  "beat",
  "verdicts",
  "health",
  "pin",
  "touch",
]);

/**
 * Our own child sends these, but a worker with a bug must not crash the
 * control process: anything without a known `t` is dropped by the caller.
 */
export function isFromWorker(m: unknown): m is FromWorker {
  return typeof m === "object" && m !== null && FROM_WORKER_TYPES.has((m as { t?: unknown }).t as string);
}

/** Environment a worker is forked with: its index (0 leads health checks) and the test-only refusal hook. */
export const WORKER_INDEX_ENV = "FULCRUM_WORKER_INDEX";
/** How many workers the node runs (connection limits are split between them). */
export const WORKER_COUNT_ENV = "FULCRUM_WORKER_COUNT";
