/**
 * Internals that benchmarks measure directly (bench/stats): the hot-path
 * counters and the 1 Hz sampler. Not an API for other packages.
 */

export {
  BackendCounters,
  countBytes,
  countResponse,
  countStatus,
  PoolCounters,
  TrafficCounters,
} from "./dataplane/stats/counters";
export { AppliedSnapshots } from "./metrics/applied-snapshots";
export { BackendStatusTracker } from "./metrics/backend-status";
export { StatsSampler } from "./metrics/sampler";
