/**
 * Internals that benchmarks use directly: the hot-path counters and the 1 Hz
 * sampler (bench/stats), the reconnect back-off (bench/fleet's simulated
 * agents) and the HAProxy config renderer (bench/haproxy). Not an API for
 * other packages.
 */

export {
  BackendCounters,
  countBytes,
  countResponse,
  countStatus,
  PoolCounters,
  TrafficCounters,
} from "./dataplane/stats/counters";
export { renderConfig } from "./engines/haproxy/render-config";
export { AppliedSnapshots } from "./metrics/applied-snapshots";
export { BackendStatusTracker } from "./metrics/backend-status";
export { StatsSampler } from "./metrics/sampler";
export { backoffDelay, DEFAULT_BACKOFF } from "./retry/backoff";
