import { MAX_REPORTED_WORKERS, type WorkerReport, type WorkersReport } from "@fulcrum/protocol";
import type { Engine } from "../engines/engine";

/**
 * The `workers` field of the heartbeat: the engine, how many data-plane
 * workers the node runs, and one row per worker process. No rows when the
 * data plane runs in this process (builtin `--workers 1`) or is HAProxy: there
 * is no worker process of ours to report on, and the page says so.
 */
export function workersReport(engine: Engine, engineName: WorkersReport["engine"]): WorkersReport {
  const rows: WorkerReport[] = (engine.workers?.() ?? []).slice(0, MAX_REPORTED_WORKERS).map((w) => ({
    index: w.index,
    ...(w.pid !== undefined ? { pid: w.pid } : {}),
    state: w.state,
    // A worker's CPU time can be read just after its restart reset it: never report below zero.
    cpuPercent: Math.max(0, Math.round(w.cpuPercent * 10) / 10),
    restarts: w.restarts,
    stalls: w.stalls,
    ...(w.lastRestart ? { lastRestart: w.lastRestart } : {}),
  }));
  return { engine: engineName, workers: Math.max(1, rows.length), rows };
}
