import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  decodeAgentMessage,
  encodeAgentMessage,
  MAX_REPORTED_WORKERS,
  type WorkersReport,
} from "../src/index";

const report: WorkersReport = {
  engine: "builtin",
  workers: 2,
  rows: [
    { index: 0, pid: 100, state: "serving", cpuPercent: 12.5, restarts: 0, stalls: 0 },
    {
      index: 1,
      state: "restarting",
      cpuPercent: 0,
      restarts: 3,
      stalls: 1,
      lastRestart: { at: "2026-12-03T19:00:00.000Z", cause: "exited", signal: "SIGKILL" },
    },
  ],
};

const heartbeat = (workers: unknown) =>
  decodeAgentMessage(encodeAgentMessage("heartbeat", { appliedVersion: 1, uptimeMs: 5, workers } as never));

describe("the heartbeat's workers report", () => {
  it("is optional both ways: agents without it are accepted, consoles without it ignore it", () => {
    const old = decodeAgentMessage(encodeAgentMessage("heartbeat", { appliedVersion: 1, uptimeMs: 5 }));
    expect(old.ok && old.message.type === "heartbeat" && old.message.payload.workers).toBe(undefined);
    const ok = heartbeat(report);
    expect(ok.ok && ok.message.type === "heartbeat" && ok.message.payload.workers).toEqual(report);
    // The heartbeat schema of consoles before the report (a plain z.object strips unknown keys).
    const before = z.object({ appliedVersion: z.number().int().nullable(), uptimeMs: z.number() });
    expect(before.safeParse({ appliedVersion: 1, uptimeMs: 5, workers: report }).success).toBe(true);
  });

  it.each([
    ["a signal that is not a name", { signal: "SIG KILL" }],
    ["a signal with a line break", { signal: "SIGKILL\n" }],
    ["an unknown cause", { cause: "oom" }],
    ["a time that is not one", { at: "yesterday" }],
    ["an exit code out of range", { exitCode: 256 }],
  ])("refuses %s", (_what, change) => {
    const rows = [
      report.rows[0],
      { ...report.rows[1], lastRestart: { ...report.rows[1]!.lastRestart, ...change } },
    ];
    expect(heartbeat({ ...report, rows }).ok).toBe(false);
  });

  it("refuses unknown states, negative counts and more rows than the bound", () => {
    expect(heartbeat({ ...report, rows: [{ ...report.rows[0], state: "zombie" }] }).ok).toBe(false);
    expect(heartbeat({ ...report, rows: [{ ...report.rows[0], restarts: -1 }] }).ok).toBe(false);
    expect(heartbeat({ ...report, engine: "nginx" }).ok).toBe(false);
    const many = Array.from({ length: MAX_REPORTED_WORKERS + 1 }, (_, index) => ({
      ...report.rows[0],
      index: index % 10,
    }));
    expect(heartbeat({ ...report, rows: many }).ok).toBe(false);
    expect(heartbeat({ ...report, rows: many.slice(0, MAX_REPORTED_WORKERS) }).ok).toBe(true);
  });
});
