export * from "./eligible";
export * from "./random";
export * from "./registry";
export * from "./round-robin";
export * from "./types";
export * from "./weighted-round-robin";
