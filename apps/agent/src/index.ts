export * from "./config";
export * from "./console/close-handling";
export type { ApplyOutcome } from "./console/connection";
export type { ListenerConfig, ListenerTimeouts } from "./dataplane/frontends/listener-config";
export { type DataPlaneTimeouts, DEFAULT_TIMEOUTS } from "./dataplane/timeouts";
export { NodeEngine, type NodeEngineOptions } from "./engines/builtin/node-engine";
export type { AppliedSnapshot, Engine, EngineStats } from "./engines/engine";
export type { BackendStats, PoolStats } from "./engines/engine-stats";
export * from "./errors";
