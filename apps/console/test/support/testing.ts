/**
 * What other packages of the workspace (bench/) use to start a console and
 * drive it, as `@fulcrum/console/testing`: no relative paths into this package.
 */
export { type RunningConsole, startConsole } from "../../src/server/start";
export { actors, callerAs, consoleDir, freePort, startTestConsole, waitFor } from "./console";
export { connectFakeAgent, type FakeAgent } from "./fake-agent";
export { delta, latency, point } from "./stats";
