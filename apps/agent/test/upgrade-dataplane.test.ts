import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { NodeEngine } from "../src/engines/builtin/node-engine";
import { silentLogger } from "../src/log";
import { freePort } from "./helpers/net";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";

describe.each(["h1", "node"] as const)("NodeEngine websocket passthrough (%s front end)", (frontEnd) => {
  it("relays an upgraded connection both ways with X-Forwarded-For", async () => {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise((r) => wss.once("listening", r));
    wss.on("connection", (ws, req) => {
      ws.on("message", (m) => ws.send(`echo:${m}:${req.headers["x-forwarded-for"]}`));
    });
    const port = await freePort();
    const engine = new NodeEngine({
      log: silentLogger,
      timeouts: { drainGraceMs: 100 },
      httpFrontEnd: frontEnd,
    });
    try {
      await engine.apply(
        makeSnapshot(1, [httpListener(port)], [backend("ws", (wss.address() as AddressInfo).port)]),
      );
      const client = new WebSocket(`ws://127.0.0.1:${port}/chat`);
      client.on("error", () => {});
      await new Promise((r, j) => {
        client.once("open", r);
        client.once("error", j);
      });
      const reply = new Promise<string>((r) => client.once("message", (m) => r(m.toString())));
      client.send("hi");
      expect(await reply).toBe("echo:hi:127.0.0.1");
      client.close();
    } finally {
      await engine.stop();
      wss.close();
    }
  });
});
