import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type AgentProcess, spawnAgent } from "@fulcrum/agent/testing";
import { AGENT_GATEWAY_PATH, encodeAgentMessage, MAX_AGENT_FRAME_BYTES } from "@fulcrum/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { get, startNamedBackend } from "./support/backends";
import { actors, callerAs, freePort, startTestConsole, type TestConsole, waitFor } from "./support/console";

describe("static stability: the data plane does not need the console", () => {
  let c: TestConsole | undefined;
  const agents: AgentProcess[] = [];
  let backend: Awaited<ReturnType<typeof startNamedBackend>>;
  let listenerPort: number;
  let stateDir: string;

  beforeAll(async () => {
    c = await startTestConsole();
    backend = await startNamedBackend("steady");
    const op = callerAs(c, actors.operator);
    const clusterId = (await op.cluster.create({ name: "island" })).id;
    listenerPort = await freePort();
    const l = await op.listener.create({
      clusterId,
      name: "web",
      bindAddress: "127.0.0.1",
      port: listenerPort,
    });
    const pool = await op.pool.create({ clusterId, name: "app" });
    await op.backend.create({ poolId: pool.id, address: "127.0.0.1", port: backend.port });
    await op.route.create({ listenerId: l.id, poolId: pool.id });
    const token = await callerAs(c, actors.admin).agent.createEnrollmentToken({ clusterId });
    stateDir = mkdtempSync(path.join(os.tmpdir(), "fulcrum-island-"));
    agents.push(
      spawnAgent([
        "--console",
        c.url,
        "--token",
        token.secret,
        "--state-dir",
        stateDir,
        "--name",
        "island-1",
      ]),
    );
    await waitFor("the agent to serve", async () => (await get(listenerPort)).body === "steady");
  });
  afterAll(async () => {
    for (const a of agents) await a.stop();
    await c?.stop();
    await backend.close();
  });

  it("keeps proxying when the console dies", async () => {
    await c!.stop();
    c = undefined;
    for (let i = 0; i < 5; i++) expect((await get(listenerPort)).body).toBe("steady");
  });

  it("serves the last good snapshot at once when restarted with the console down", async () => {
    await agents[0]!.stop();
    const started = Date.now();
    agents.push(
      spawnAgent(["--console", "http://127.0.0.1:1", "--state-dir", stateDir, "--name", "island-1"]),
    );
    await waitFor(
      "the restarted agent to serve",
      async () => (await get(listenerPort)).body === "steady",
      10_000,
    );
    // The goal is 1 s; this bound leaves room for a loaded CI machine (tsx start-up included).
    const elapsed = Date.now() - started;
    console.log(`restarted agent served its stored snapshot after ${elapsed} ms`);
    expect(elapsed).toBeLessThan(5000);
  });
});

describe("the gateway refuses bad frames without harm", () => {
  let c: TestConsole;
  let credential: string;
  let bystanderCredential: string;
  beforeAll(async () => {
    c = await startTestConsole();
    const clusterId = (await callerAs(c, actors.operator).cluster.create({ name: "fuzz" })).id;
    const token = await callerAs(c, actors.admin).agent.createEnrollmentToken({ clusterId, maxUses: 2 });
    const enroll = async (name: string) => {
      const res = await fetch(`${c.url}/api/agents/enroll`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token: token.secret, name }),
      });
      return ((await res.json()) as { credential: string }).credential;
    };
    credential = await enroll("fake");
    bystanderCredential = await enroll("bystander");
  });
  afterAll(async () => {
    await c?.stop();
  });

  function open(as = credential): Promise<{ ws: WebSocket; frames: unknown[] }> {
    const ws = new WebSocket(`${c.url.replace("http", "ws")}${AGENT_GATEWAY_PATH}`, {
      headers: { authorization: `Bearer ${as}` },
    });
    const frames: unknown[] = [];
    ws.on("message", (d) => frames.push(JSON.parse(d.toString())));
    ws.on("error", () => {});
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve({ ws, frames }));
      ws.once("unexpected-response", (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
    });
  }

  it("refuses a wrong credential at the handshake", async () => {
    const ws = new WebSocket(`${c.url.replace("http", "ws")}${AGENT_GATEWAY_PATH}`, {
      headers: { authorization: "Bearer fa_forged" },
    });
    const status = await new Promise((r) => ws.once("unexpected-response", (_q, res) => r(res.statusCode)));
    expect(status).toBe(401);
  });

  it("answers malformed and unknown messages with an error and keeps the connection", async () => {
    const { ws, frames } = await open();
    ws.send("{not json");
    ws.send(JSON.stringify({ v: 1, type: "teleport", id: "x", payload: {} }));
    ws.send(encodeAgentMessage("ack", { version: 1, hash: "x" })); // before hello
    await waitFor("three error replies", () => frames.length >= 3);
    expect(frames.map((f) => (f as { payload: { code: string } }).payload.code)).toEqual([
      "INVALID_MESSAGE",
      "INVALID_MESSAGE",
      "HELLO_FIRST",
    ]);
    ws.send(
      encodeAgentMessage("hello", {
        name: "fake",
        softwareVersion: "test",
        protocolVersions: [1],
        capabilities: [],
        appliedVersion: null,
        appliedHash: null,
      }),
    );
    await waitFor("welcome and snapshot", () =>
      frames.some((f) => (f as { type: string }).type === "snapshot"),
    );
    ws.close();
  });

  it("closes a connection that sends an oversized frame, and nobody else notices", async () => {
    // Another agent: a second connection with the same credential would replace the first.
    const bystander = await open(bystanderCredential);
    const { ws } = await open();
    const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
    ws.send("x".repeat(MAX_AGENT_FRAME_BYTES + 1));
    expect(await closed).toBe(1009);
    expect(bystander.ws.readyState).toBe(WebSocket.OPEN);
    expect((await fetch(`${c.url}/api/health`)).status).toBe(200);
    bystander.ws.close();
  });

  it("refuses a hello with no common protocol version", async () => {
    const { ws, frames } = await open();
    const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
    ws.send(
      encodeAgentMessage("hello", {
        name: "fake",
        softwareVersion: "from the future",
        protocolVersions: [99],
        capabilities: [],
        appliedVersion: null,
        appliedHash: null,
      }),
    );
    expect(await closed).toBe(4426);
    expect(JSON.stringify(frames)).toMatch(/PROTOCOL_UNSUPPORTED/);
  });
});
