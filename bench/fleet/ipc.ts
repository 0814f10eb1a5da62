/** Messages between the bench (parent) and console-child.ts over the fork IPC channel. */
export type Request =
  | { id: number; op: "setup" }
  | { id: number; op: "enrollmentToken"; clusterId: string; maxUses: number }
  | { id: number; op: "toggle"; backendId: string; expectAcks: number }
  | { id: number; op: "memory"; gc: boolean }
  | { id: number; op: "connected" };

export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/** Sent once, unprompted, when the console listens. */
export interface Ready {
  ready: true;
  port: number;
  at: number;
}

export interface SetupResult {
  clusterId: string;
  backendId: string;
}

export interface ChangeResult {
  /** CLOCK_MONOTONIC ms (see clock.ts) when the tRPC call started and returned. */
  callStart: number;
  callEnd: number;
  version: number;
  /** When a poll of the agents table first saw every connected agent at `version` (null: timed out). */
  acksRecorded: number | null;
  polls: number;
}

export interface MemoryResult {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}
