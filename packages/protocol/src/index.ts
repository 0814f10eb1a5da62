export * from "./codec";
export * from "./enroll";
export * from "./messages";
export * from "./snapshot";
export * from "./version";
