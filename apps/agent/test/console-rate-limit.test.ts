import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AgentMessage, CloseCode, encodeConsoleMessage, type HealthEvent } from "@fulcrum/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConsoleConnection } from "../src/console/connection";
import { silentLogger } from "../src/log";
import { spawnAgent } from "./helpers/agent-process";
import { freePort } from "./helpers/net";
import { httpListener, makeSnapshot } from "./helpers/snapshot";
import { startStandInConsole } from "./helpers/stand-in-console";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The wait the agent logged for its rate-limited reconnect. */
const loggedWait = (stderr: string) => Number(/rate limited.*inMs=(\d+)/.exec(stderr)?.[1] ?? Number.NaN);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fulcrum-agent-rl-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("an agent the console rate limits", () => {
  it("says why and waits at least 30 s after a 4429 close, where any other close reconnects at once", async () => {
    const console_ = await startStandInConsole();
    const agent = spawnAgent([
      "--console",
      console_.url,
      "--token",
      "tok-0123456789abcdef",
      "--state-dir",
      join(dir, "a"),
      "--name",
      "edge-1",
    ]);
    try {
      await console_.next("hello");
      // An ordinary close: back within the normal back-off (under a second).
      console_.sockets[0]!.close(1011, "console restarting");
      await console_.next("hello", 5000);
      expect(console_.upgrades).toHaveLength(2);

      console_.refuseWith429(30);
      console_.sockets[1]!.close(CloseCode.rateLimited, "rate limited: too many frames; retry in 30 s");
      await agent.waitFor(/rate limited.*inMs=\d+/);
      expect(agent.stderr()).toMatch(/WARN .*sending more messages than it allows.*code=4429/);
      expect(agent.stderr()).toMatch(/reason="rate limited: too many frames; retry in 30 s"/);
      const wait = loggedWait(agent.stderr());
      expect(wait).toBeGreaterThanOrEqual(30_000);
      expect(wait).toBeLessThanOrEqual(60_000);
      await sleep(3000);
      expect(console_.upgrades).toHaveLength(2);
      expect(agent.child.exitCode).toBeNull();
    } finally {
      await agent.stop();
      console_.close();
    }
  });

  it("honours a longer Retry-After when the console refuses its handshake with 429", async () => {
    const console_ = await startStandInConsole();
    console_.refuseWith429(120);
    const agent = spawnAgent([
      "--console",
      console_.url,
      "--token",
      "tok-0123456789abcdef",
      "--state-dir",
      join(dir, "b"),
      "--name",
      "edge-2",
    ]);
    try {
      await agent.waitFor(/rate limited.*inMs=\d+/);
      expect(agent.stderr()).toMatch(/code=4429 reason="handshake answered HTTP 429"/);
      expect(loggedWait(agent.stderr())).toBeGreaterThanOrEqual(120_000);
      await sleep(2000);
      expect(console_.upgrades).toHaveLength(1);
    } finally {
      await agent.stop();
      console_.close();
    }
  });

  it("sends one nack for a snapshot it was sent twice and refused both times", async () => {
    const console_ = await startStandInConsole();
    const blocker = net.createServer();
    const taken = await freePort();
    await new Promise<void>((r) => blocker.listen(taken, "127.0.0.1", r));
    const agent = spawnAgent([
      "--console",
      console_.url,
      "--token",
      "tok-0123456789abcdef",
      "--state-dir",
      join(dir, "c"),
      "--name",
      "edge-3",
    ]);
    try {
      await console_.next("hello");
      const snap = makeSnapshot(8, [httpListener(taken)], []);
      const ws = console_.sockets[0]!;
      ws.send(encodeConsoleMessage("snapshot", { snapshot: snap }));
      expect((await console_.next("nack")).payload).toMatchObject({ version: 8 });
      ws.send(encodeConsoleMessage("snapshot", { snapshot: snap }));
      await sleep(1500);
      expect(console_.inbox.filter((m) => m.type === "nack")).toEqual([]);
    } finally {
      await agent.stop();
      blocker.close();
      console_.close();
    }
  });

  it("sends a backend's health change once: events repeating its last state are not sent", async () => {
    const console_ = await startStandInConsole();
    let emit: ((e: HealthEvent) => void) | undefined;
    const conn = new ConsoleConnection({
      consoleUrl: new URL(console_.url),
      credential: "cred-123",
      log: silentLogger,
      hello: () => ({
        name: "edge-4",
        softwareVersion: "test",
        protocolVersions: [1],
        capabilities: [],
        appliedVersion: null,
        appliedHash: null,
      }),
      appliedVersion: () => null,
      applySnapshot: async () => ({ ok: false, reason: "not in this test" }),
      healthBatchMs: 20,
      subscribeHealth: (fn) => {
        emit = fn;
        return () => {
          emit = undefined;
        };
      },
    });
    const running = conn.run();
    try {
      await console_.next("hello");
      await sleep(100);
      const at = new Date().toISOString();
      const event = (backendId: string, state: HealthEvent["state"]): HealthEvent => ({
        poolId: "p1",
        backendId,
        address: "127.0.0.1",
        port: 9000,
        state,
        at,
      });
      for (const [id, state] of [
        ["b1", "down"],
        ["b1", "down"],
        ["b2", "down"],
        ["b1", "up"],
        ["b1", "up"],
        ["b2", "down"],
        ["b1", "down"],
      ] as const) {
        emit!(event(id, state));
      }
      await sleep(300);
      const sent = console_.inbox
        .filter((m): m is Extract<AgentMessage, { type: "health" }> => m.type === "health")
        .flatMap((m) => m.payload.events.map((e) => `${e.backendId}:${e.state}`));
      expect(sent).toEqual(["b1:down", "b2:down", "b1:up", "b1:down"]);
    } finally {
      conn.stop();
      await running;
      console_.close();
    }
  });
});
