import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeConsoleMessage } from "@fulcrum/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnAgent } from "./helpers/agent-process";
import { freePort, get, type NamedBackend, startBackend } from "./helpers/net";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";
import { startStandInConsole } from "./helpers/stand-in-console";

let dir: string;
let a: NamedBackend;
let b: NamedBackend;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fulcrum-agent-"));
  a = await startBackend("a");
  b = await startBackend("b");
});
afterAll(async () => {
  await a.close();
  await b.close();
  await rm(dir, { recursive: true, force: true });
});

describe("agent ↔ console session", () => {
  it("enrolls, says hello, acks a snapshot, survives a bad frame, exits 3 when revoked, then serves from disk", async () => {
    const console_ = await startStandInConsole({ welcome: "manual" });
    const port = await freePort();
    const stateDir = join(dir, "state");
    const agent = spawnAgent([
      "--console",
      console_.url,
      "--token",
      "tok-0123456789abcdef",
      "--state-dir",
      stateDir,
      "--name",
      "edge-1",
    ]);
    try {
      const hello = await console_.next("hello");
      expect(console_.enrolls).toEqual([{ token: "tok-0123456789abcdef", name: "edge-1" }]);
      expect(console_.auth).toEqual(["Bearer cred-123"]);
      expect(hello.payload).toMatchObject({ name: "edge-1", protocolVersions: [1], appliedVersion: null });
      expect((await stat(join(stateDir, "credential.json"))).mode & 0o777).toBe(0o600);

      const ws = console_.sockets[0]!;
      ws.send(
        encodeConsoleMessage("welcome", {
          agentId: "ag-1",
          clusterId: "c1",
          protocolVersion: 1,
          heartbeatIntervalMs: 100,
        }),
      );
      await console_.next("heartbeat");

      ws.send("{not json");
      expect((await console_.next("error")).payload).toMatchObject({ code: "invalid_message" });

      const snap = makeSnapshot(7, [httpListener(port)], [backend("a", a.port), backend("b", b.port)]);
      ws.send(encodeConsoleMessage("snapshot", { snapshot: snap }));
      expect((await console_.next("ack")).payload).toEqual({ version: 7, hash: snap.hash });
      expect([(await get(port)).body, (await get(port)).body].sort()).toEqual(["a", "b"]);
      expect(JSON.parse(await readFile(join(stateDir, "snapshot.json"), "utf8")).version).toBe(7);

      const taken = makeSnapshot(8, [httpListener(port), httpListener(a.port)], [backend("a", a.port)]);
      ws.send(encodeConsoleMessage("snapshot", { snapshot: taken }));
      expect((await console_.next("nack")).payload).toMatchObject({
        version: 8,
        reason: expect.stringMatching(/^listener_bind_failed: .*EADDRINUSE/),
      });

      // Health transitions reach the console as batched `health` messages.
      const closed = await freePort();
      const checked = makeSnapshot(
        9,
        [httpListener(port)],
        [backend("a", a.port), backend("gone", closed)],
        "round_robin",
        [],
        { healthCheck: { type: "tcp", intervalMs: 100, timeoutMs: 80, rise: 1, fall: 1 } },
      );
      ws.send(encodeConsoleMessage("snapshot", { snapshot: checked }));
      expect((await console_.next("ack")).payload).toEqual({ version: 9, hash: checked.hash });
      const health = await console_.next("health");
      expect(health.payload).toMatchObject({
        events: [{ poolId: "p1", backendId: "gone", address: "127.0.0.1", port: closed, state: "down" }],
      });
      expect(agent.stderr()).toMatch(/backend down .*backend=gone/);

      ws.close(4403, "revoked");
      expect(await agent.exited).toBe(3);
      expect(agent.stderr()).toMatch(/revoked/);
    } finally {
      await agent.stop();
      console_.close();
    }

    // Console gone, no token: the stored credential and snapshot carry the restart.
    const again = spawnAgent(["--console", "http://127.0.0.1:1", "--state-dir", stateDir]);
    try {
      await again.waitFor(/serving stored snapshot/);
      // The stored snapshot is v9: "gone" starts unknown (serving) until its check fails.
      await again.waitFor(/backend down/);
      expect([(await get(port)).body, (await get(port)).body]).toEqual(["a", "a"]);
      await again.waitFor(/reconnecting/);
    } finally {
      expect(await again.stop()).toBe(0);
    }
  });
});
