import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AGENT_ENROLL_PATH,
  AGENT_GATEWAY_PATH,
  type AgentMessage,
  decodeAgentMessage,
  encodeConsoleMessage,
} from "@fulcrum/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { spawnAgent } from "./helpers/agent-process";
import { freePort, get, type NamedBackend, startBackend } from "./helpers/net";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";

/**
 * A stand-in console speaking the real protocol over real sockets: the console
 * is another team's process, so this exercises the agent's side of the contract.
 */
async function startConsole() {
  const http: Server = createServer((req, res) => {
    if (req.method === "POST" && req.url === AGENT_ENROLL_PATH) {
      let body = "";
      req.on("data", (d) => {
        body += d;
      });
      req.on("end", () => {
        enrolls.push(JSON.parse(body));
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ agentId: "ag-1", clusterId: "c1", credential: "cred-123" }));
      });
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  const enrolls: unknown[] = [];
  const auth: (string | undefined)[] = [];
  const inbox: AgentMessage[] = [];
  const sockets: WebSocket[] = [];
  const wss = new WebSocketServer({ server: http, path: AGENT_GATEWAY_PATH });
  wss.on("connection", (ws, req) => {
    auth.push(req.headers.authorization);
    sockets.push(ws);
    ws.on("error", () => {});
    ws.on("message", (d) => {
      const m = decodeAgentMessage(d.toString());
      if (m.ok) inbox.push(m.message);
    });
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  const next = async (type: AgentMessage["type"], ms = 10_000): Promise<AgentMessage> => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const i = inbox.findIndex((m) => m.type === type);
      if (i !== -1) return inbox.splice(i, 1)[0]!;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no ${type} from agent; got ${inbox.map((m) => m.type).join(",")}`);
  };
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    enrolls,
    auth,
    sockets,
    next,
    close: () => {
      for (const s of wss.clients) s.terminate();
      wss.close();
      http.close();
    },
  };
}

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
    const console_ = await startConsole();
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
