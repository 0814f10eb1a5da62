export * from "./config";
export * from "./console/close-codes";
export type { ApplyOutcome } from "./console/connection";
export type { AppliedSnapshot, Engine } from "./dataplane/engine";
export { NodeEngine, type NodeEngineOptions } from "./dataplane/node-engine";
export { type DataPlaneTimeouts, DEFAULT_TIMEOUTS } from "./dataplane/timeouts";
export * from "./errors";
