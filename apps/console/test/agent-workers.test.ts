import { execFileSync } from "node:child_process";
import type { AgentProcess } from "@fulcrum/agent/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actors, callerAs, type TestConsole, waitFor } from "./support/console";
import { connectFakeAgent, type FakeAgent } from "./support/fake-agent";
import { type Stack, startStack } from "./support/stack";

/** Child processes of `pid` (the data-plane workers of an agent started with --workers N). */
function childPids(pid: number): number[] {
  try {
    const out = execFileSync("ps", ["--ppid", String(pid), "-o", "pid="], { encoding: "utf8" });
    return out
      .split("\n")
      .map((l) => Number(l.trim()))
      .filter((n) => n > 0);
  } catch {
    return []; // ps exits 1 when there are none
  }
}

/**
 * Heartbeats come every 5 s (HEARTBEAT_INTERVAL_MS); a restart needs one heartbeat after it. Generous:
 * agent start-up (tsx, two forks) on two shared cores can take tens of seconds.
 */
const REPORT_WAIT_MS = 60_000;
const TEST_TIMEOUT_MS = 180_000;

describe("the Agents page's workers: real agent processes → heartbeat → agent.list", () => {
  let stack: Stack;
  let c: TestConsole;
  let clusterId: string;
  let two: AgentProcess;
  let fake: FakeAgent | undefined;

  const listed = async (name: string) => {
    const agents = await callerAs(c, actors.viewer).agent.list({ clusterId });
    return agents.find((a) => a.name === name);
  };

  beforeAll(async () => {
    stack = await startStack({ cluster: "workers" });
    ({ console: c, clusterId } = stack);
    ({ agent: two } = await stack.enroll("two-workers", { args: ["--workers", "2"] }));
  });
  afterAll(async () => {
    await fake?.close();
    await stack?.close();
  });

  it(
    "shows each worker's pid, state and CPU, and a kill -9 as a restart with its signal",
    async () => {
      const before = await waitFor(
        "both workers to be reported serving",
        async () => {
          const a = await listed("two-workers");
          return a?.workers?.rows.length === 2 && a.workers.rows.every((w) => w.state === "serving")
            ? a.workers
            : undefined;
        },
        REPORT_WAIT_MS,
      );
      expect(before).toMatchObject({ engine: "builtin", workers: 2 });
      const pids = before.rows.map((w) => w.pid);
      // The pids the console shows are the agent's own worker processes.
      expect(new Set(childPids(two.child.pid!))).toEqual(new Set(pids));
      for (const w of before.rows) {
        expect(w).toMatchObject({ restarts: 0, stalls: 0 });
        expect(w.lastRestart).toBeUndefined();
        expect(w.cpuPercent).toBeGreaterThanOrEqual(0);
      }

      const victim = before.rows[1]!.pid!;
      process.kill(victim, "SIGKILL");

      const after = await waitFor(
        "the restart to reach the console",
        async () => {
          const w = (await listed("two-workers"))?.workers?.rows[1];
          return w && w.restarts === 1 && w.state === "serving" ? w : undefined;
        },
        REPORT_WAIT_MS,
      );
      expect(after.pid).not.toBe(victim);
      expect(childPids(two.child.pid!)).toContain(after.pid);
      expect(after.lastRestart).toMatchObject({ cause: "exited", signal: "SIGKILL" });
      expect(Date.now() - Date.parse(after.lastRestart!.at)).toBeLessThan(2 * REPORT_WAIT_MS);
      const other = (await listed("two-workers"))!.workers!.rows[0]!;
      expect(other).toMatchObject({ restarts: 0, pid: pids[0], state: "serving" });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "reports one in-process worker and no rows for --workers 1",
    async () => {
      await stack.enroll("one-worker", { args: ["--workers", "1"] });
      const report = await waitFor(
        "the single-process agent's report",
        async () => (await listed("one-worker"))?.workers,
        REPORT_WAIT_MS,
      );
      expect(report).toEqual({ engine: "builtin", workers: 1, rows: [] });
    },
    TEST_TIMEOUT_MS,
  );

  it("accepts an agent that sends no workers, and refuses a report with hostile strings", async () => {
    fake = await connectFakeAgent(c, clusterId, "older-agent");
    const row = () => c.services.prisma.agent.findFirstOrThrow({ where: { name: "older-agent" } });
    await waitFor("the hello to be recorded", async () => (await row()).lastHeartbeatAt !== null);
    const beat = async (payload: unknown) => {
      const seen = (await row()).lastHeartbeatAt!.getTime();
      fake!.heartbeat(payload);
      return seen;
    };

    // An agent from before the workers report: its heartbeat is recorded, it shows no workers.
    const seen = await beat({ appliedVersion: null, uptimeMs: 1 });
    await waitFor(
      "the heartbeat to be recorded",
      async () => (await row()).lastHeartbeatAt!.getTime() > seen,
    );
    expect((await listed("older-agent"))?.workers).toBeNull();

    const good = {
      engine: "builtin",
      workers: 1,
      rows: [{ index: 0, pid: 42, state: "serving", cpuPercent: 3.5, restarts: 0, stalls: 0 }],
    };
    await beat({ appliedVersion: null, uptimeMs: 2, workers: good });
    await waitFor(
      "the report to be stored",
      async () => (await listed("older-agent"))?.workers?.rows[0]?.pid === 42,
    );

    // A signal name that would break a log line, and more rows than the protocol allows: refused whole.
    const hostile = [
      {
        ...good,
        rows: [
          {
            ...good.rows[0],
            pid: 7,
            lastRestart: { at: new Date().toISOString(), cause: "exited", signal: "SIG\nKILL" },
          },
        ],
      },
      {
        ...good,
        rows: Array.from({ length: 257 }, (_, index) => ({ ...good.rows[0], index: index % 200, pid: 7 })),
      },
      { ...good, rows: [{ ...good.rows[0], pid: 7, state: "<script>" }] },
    ];
    for (const workers of hostile) {
      const at = await beat({ appliedVersion: null, uptimeMs: 3, workers });
      // A heartbeat without workers after it (it leaves the stored report alone) proves the hostile
      // one was handled: frames are parsed in order, and one writer batch would carry both.
      await beat({ appliedVersion: null, uptimeMs: 4 });
      await waitFor("the next heartbeat", async () => (await row()).lastHeartbeatAt!.getTime() > at);
      expect((await listed("older-agent"))?.workers?.rows[0]?.pid).toBe(42);
    }

    // A value written to the column by something else than the gateway is not passed on.
    await c.services.prisma.agent.update({
      where: { id: fake.id },
      data: { workers: { ...good, rows: [{ ...good.rows[0], state: "serving\u202e" }] } },
    });
    expect((await listed("older-agent"))?.workers).toBeNull();
  });
});
