import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HealthEvent } from "@fulcrum/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AgentProcess, spawnAgent } from "./helpers/agent-process";
import { type CtlBackend, startCtlBackend } from "./helpers/backends";
import { freePort, get } from "./helpers/net";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";
import { credentialJson, type StandInConsole, startStandInConsole } from "./helpers/stand-in-console";

/** Long enough that only a "restored" event, not the timer, can end the ejection within the test. */
const EJECTION_MS = 600_000;

let dir: string;
let a: CtlBackend;
let b: CtlBackend;
let console_: StandInConsole;
let agent: AgentProcess;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fulcrum-outlier-restore-"));
  [a, b] = await Promise.all([startCtlBackend("a"), startCtlBackend("b")]);
  console_ = await startStandInConsole();
  const stateDir = join(dir, "state");
  await mkdir(stateDir, { mode: 0o700 });
  await writeFile(join(stateDir, "credential.json"), credentialJson(console_.url), { mode: 0o600 });
  agent = spawnAgent(["--console", console_.url, "--state-dir", stateDir]);
});

afterEach(async () => {
  await agent?.stop();
  console_?.close();
  await Promise.all([a?.close(), b?.close()]);
  await rm(dir, { recursive: true, force: true });
});

/** Health events the agent sent the console so far, in order. */
const healthEvents = (): HealthEvent[] =>
  console_.inbox.flatMap((m) => (m.type === "health" ? m.payload.events : []));

async function eventually<T>(what: string, probe: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(healthEvents())}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("a snapshot that changes a pool's outlier settings mid-ejection", () => {
  const outlier = { consecutiveFailures: 2, baseEjectionMs: EJECTION_MS, maxEjectionMs: EJECTION_MS };
  const snapshot = (version: number, port: number, pool: Parameters<typeof makeSnapshot>[5]) =>
    makeSnapshot(
      version,
      [httpListener(port)],
      [backend("a", a.port), backend("b", b.port)],
      "round_robin",
      [],
      {
        retries: { enabled: false },
        ...pool,
      },
    );

  /** Applies v1 and fails b until the console hears it was ejected. */
  async function ejectB(port: number) {
    const ws = await console_.welcomed();
    console_.push(ws, snapshot(1, port, { outlierDetection: outlier }));
    expect((await console_.answer(1)).type).toBe("ack");
    b.status = 500;
    for (let i = 0; i < 20 && b.hits < 2; i++) await get(port);
    await eventually("b's ejection", () =>
      healthEvents().find((e) => e.backendId === "b" && e.state === "ejected"),
    );
    b.status = 200;
    // Ejected: b gets nothing.
    const hits = b.hits;
    for (let i = 0; i < 6; i++) expect((await get(port)).body).toBe("a");
    expect(b.hits).toBe(hits);
    return ws;
  }

  it.each([
    [
      "changed",
      { outlierDetection: { ...outlier, consecutiveFailures: 3 } },
      "outlier detection settings changed",
    ],
    ["turned off", { outlierDetection: { ...outlier, enabled: false } }, "outlier detection off"],
  ] as const)(
    "%s: the ejection ends with a restored event, and b serves again",
    async (_what, pool, reason) => {
      const port = await freePort();
      const ws = await ejectB(port);
      console_.push(ws, snapshot(2, port, pool));
      expect((await console_.answer(2)).type).toBe("ack");
      const restored = await eventually("b's restored event", () =>
        healthEvents().find((e) => e.backendId === "b" && e.state === "restored"),
      );
      expect(restored).toMatchObject({ poolId: "p1", port: b.port, reason });
      const bodies: string[] = [];
      for (let i = 0; i < 6; i++) bodies.push((await get(port)).body);
      expect(bodies).toContain("b");
    },
  );

  it("unchanged settings: the ejection goes on through other changes, with no restored event", async () => {
    const port = await freePort();
    const ws = await ejectB(port);
    // Another backend setting changes, the outlier settings do not.
    console_.push(
      ws,
      makeSnapshot(
        2,
        [httpListener(port)],
        [backend("a", a.port, { weight: 2 }), backend("b", b.port)],
        "round_robin",
        [],
        { retries: { enabled: false }, outlierDetection: outlier },
      ),
    );
    expect((await console_.answer(2)).type).toBe("ack");
    const hits = b.hits;
    for (let i = 0; i < 6; i++) expect((await get(port)).body).toBe("a");
    expect(b.hits).toBe(hits);
    // The agent sends health events within ~250 ms of the change; two heartbeats later (1 s apart) it has.
    for (let i = console_.inbox.length - 1; i >= 0; i--) {
      if (console_.inbox[i]!.type === "heartbeat") console_.inbox.splice(i, 1);
    }
    await console_.next("heartbeat");
    await console_.next("heartbeat");
    expect(healthEvents().filter((e) => e.backendId === "b" && e.state === "restored")).toEqual([]);
  });
});
