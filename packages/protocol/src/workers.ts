import { z } from "zod";

/**
 * What an agent says about its data-plane workers (`--workers N`), carried in
 * its heartbeat. Optional there, so an older agent that sends none and an
 * older console that strips the unknown key both keep working. Everything is
 * a number, an enum or a string with a grammar: the console stores it, shows
 * it on the Agents page and writes restarts into its log.
 */

/** More rows than this are refused (the agent's `--workers` is far below it). */
export const MAX_REPORTED_WORKERS = 256;

/**
 * starting: forked, not serving the current snapshot yet; serving; restarting:
 * exited and waiting out its back-off before the next fork; exited: stopped
 * for good (the agent is shutting down).
 */
export const WORKER_STATES = ["starting", "serving", "restarting", "exited"] as const;
export type WorkerState = (typeof WORKER_STATES)[number];

/**
 * Why a worker last restarted: it exited by itself or was killed from outside
 * (`exited`, with its exit code or signal), the control process killed it for
 * a stuck event loop (`stalled`), or it refused the serving snapshot or a
 * forwarded call after a restart and was killed to try again (`refused`).
 */
export const WORKER_RESTART_CAUSES = ["exited", "stalled", "refused"] as const;
export type WorkerRestartCause = (typeof WORKER_RESTART_CAUSES)[number];

/** A POSIX signal name as Node reports it (`SIGKILL`, `SIGRTMIN`…). */
const SIGNAL_NAME = /^SIG[A-Z0-9]{1,12}$/;
export function isSignalName(s: string): boolean {
  return SIGNAL_NAME.test(s);
}

const isoTime = z
  .string()
  .max(64)
  .refine((s) => Number.isFinite(Date.parse(s)), "Use an ISO 8601 time.");

export const workerRestartSchema = z.object({
  at: isoTime,
  cause: z.enum(WORKER_RESTART_CAUSES),
  exitCode: z.number().int().min(0).max(255).optional(),
  signal: z.string().max(16).refine(isSignalName, "Use a signal name such as SIGKILL.").optional(),
});
export type WorkerRestart = z.infer<typeof workerRestartSchema>;

export const workerReportSchema = z.object({
  index: z.number().int().min(0).max(MAX_REPORTED_WORKERS),
  /** Absent while no process runs (restarting, exited). */
  pid: z
    .number()
    .int()
    .positive()
    .max(2 ** 31)
    .optional(),
  state: z.enum(WORKER_STATES),
  /** Over the last worker heartbeat (250 ms), in % of one core (a process can exceed 100). */
  cpuPercent: z.number().min(0).max(100_000),
  restarts: z.number().int().min(0),
  /** Kills for a stuck event loop, counted in `restarts` too. */
  stalls: z.number().int().min(0),
  lastRestart: workerRestartSchema.optional(),
});
export type WorkerReport = z.infer<typeof workerReportSchema>;

/**
 * The data plane of one node. `workers` is the count the agent runs; `rows`
 * has one entry per worker process, and is empty when the data plane runs in
 * the agent's own process (builtin `--workers 1`) or is HAProxy (its threads
 * are its own).
 */
export const workersReportSchema = z.object({
  engine: z.enum(["builtin", "haproxy"]),
  workers: z.number().int().min(1).max(MAX_REPORTED_WORKERS),
  rows: z.array(workerReportSchema).max(MAX_REPORTED_WORKERS),
});
export type WorkersReport = z.infer<typeof workersReportSchema>;
