import { MAX_AGENT_FRAME_BYTES, STATS_MESSAGE_BYTE_BUDGET, type StatsPoint } from "@fulcrum/protocol";
import { describe, expect, it } from "vitest";
import { ConsoleConnection } from "../src/console/connection";
import type { Fields, Logger } from "../src/log";
import { startStandInConsole } from "./helpers/stand-in-console";

/** A point listing `backends` backends with every field set and long ids (~370 bytes each encoded). */
function bigPoint(seq: number, backends: number): StatsPoint {
  const entries: StatsPoint["backends"] = {};
  const pad = "x".repeat(100);
  for (let i = 0; i < backends; i++) {
    entries[`b-${i}-${pad}`] = {
      poolId: `pool-${i % 200}`,
      status: "up",
      stickySessions: 12,
      requests: 123_456,
      s1xx: 1,
      s2xx: 120_000,
      s3xx: 1000,
      s4xx: 2000,
      s5xx: 455,
      bytesIn: 987_654_321,
      bytesOut: 123_456_789_012,
      connectionsOpened: 4567,
      retries: 89,
      activeConnections: 321,
      queueLength: 7,
    };
  }
  return {
    at: new Date(1_700_000_000_000 + seq * 1000).toISOString(),
    intervalMs: 1000,
    seq,
    listeners: {},
    routes: {},
    pools: {},
    backends: entries,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function capturingLogger() {
  const lines: { msg: string; fields?: Fields }[] = [];
  const log: Logger = {
    debug() {},
    info() {},
    warn: (msg, fields) => lines.push({ msg, fields }),
    error: (msg, fields) => lines.push({ msg, fields }),
  };
  return { log, lines };
}

describe("stats messages stay within the console's frame cap", () => {
  it("delivers a large backlog in several messages under the cap, drops a point no frame can carry, and never reconnects", async () => {
    const console_ = await startStandInConsole({
      heartbeatIntervalMs: 5000,
      maxPayload: MAX_AGENT_FRAME_BYTES,
    });
    const { log, lines } = capturingLogger();
    let emit: ((p: StatsPoint) => void) | undefined;
    const conn = new ConsoleConnection({
      consoleUrl: new URL(console_.url),
      credential: "cred-123",
      log,
      hello: () => ({
        name: "edge-big",
        softwareVersion: "test",
        protocolVersions: [1],
        capabilities: [],
        appliedVersion: null,
        appliedHash: null,
      }),
      appliedVersion: () => null,
      applySnapshot: async () => ({ ok: false, reason: "not in this test" }),
      backoff: { baseMs: 50, capMs: 200 },
      subscribeStats: (fn) => {
        emit = fn;
        return () => {
          emit = undefined;
        };
      },
    });
    // The backlog of an agent that could not reach the console: 30 points of
    // ~300 KB (~9 MB, more than one frame may carry), a ~3 MB keyframe (over a
    // message budget, under the frame cap), one point of ~11 MB (no frame can
    // carry it), and a small one after it.
    for (let seq = 0; seq < 30; seq++) emit!(bigPoint(seq, 800));
    emit!(bigPoint(30, 8000));
    emit!(bigPoint(31, 30_000));
    emit!(bigPoint(32, 1));
    expect(Buffer.byteLength(JSON.stringify(bigPoint(31, 30_000)))).toBeGreaterThan(MAX_AGENT_FRAME_BYTES);

    const running = conn.run();
    const seqs = () =>
      console_.frames.flatMap((f) =>
        f.message.type === "stats" ? f.message.payload.points.map((p) => p.seq) : [],
      );
    try {
      const deadline = Date.now() + 30_000;
      while (!seqs().includes(32) && Date.now() < deadline) await sleep(50);
      // Live points still flow after the backlog.
      emit!(bigPoint(33, 1));
      const liveDeadline = Date.now() + 10_000;
      while (!seqs().includes(33) && Date.now() < liveDeadline) await sleep(20);

      const expected = [...Array.from({ length: 31 }, (_, i) => i), 32, 33];
      expect(seqs()).toEqual(expected);
      expect(console_.closes).toEqual([]);
      expect(console_.connections()).toBe(1);
      const stats = console_.frames.filter((f) => f.message.type === "stats");
      expect(stats.length).toBeGreaterThanOrEqual(10);
      for (const f of stats) {
        expect(f.bytes).toBeLessThanOrEqual(MAX_AGENT_FRAME_BYTES);
        const points = f.message.type === "stats" ? f.message.payload.points.length : 0;
        // Only a lone point may exceed the budget (the keyframe, sent by itself).
        if (points > 1) expect(f.bytes).toBeLessThanOrEqual(STATS_MESSAGE_BYTE_BUDGET);
      }
      const dropLines = lines.filter((l) => /too large/.test(l.msg));
      expect(dropLines).toHaveLength(1);
      expect(dropLines[0]!.fields).toMatchObject({ dropped: 1 });
    } finally {
      conn.stop();
      await running;
      console_.close();
    }
  }, 60_000);
});
