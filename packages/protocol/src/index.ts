export * from "./codec";
export * from "./engine-support";
export * from "./enroll";
export * from "./histogram";
export * from "./messages";
export * from "./snapshot";
export * from "./stats";
export * from "./version";
