export * from "./config";
export * from "./console/close-codes";
export type { ApplyOutcome } from "./console/connection";
export type { AppliedSnapshot, Engine, EngineStats } from "./dataplane/engine";
export type { BackendStats, PoolStats } from "./dataplane/engine-stats";
export type { ListenerConfig, ListenerTimeouts } from "./dataplane/listener-config";
export { NodeEngine, type NodeEngineOptions } from "./dataplane/node-engine";
export { type DataPlaneTimeouts, DEFAULT_TIMEOUTS } from "./dataplane/timeouts";
export * from "./errors";
