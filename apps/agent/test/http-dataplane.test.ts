import { Agent, createServer as createHttpServer } from "node:http";
import { type AddressInfo, connect, createServer, type Server } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NodeEngine } from "../src/engines/builtin/node-engine";
import { ListenerBindError, SnapshotInvalidError } from "../src/errors";
import { silentLogger } from "../src/log";
import { freePort, get, type NamedBackend, startBackend } from "./helpers/net";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";

let a: NamedBackend;
let b: NamedBackend;
let engine: NodeEngine;
let port: number;

const bodies = async (n: number, agent?: Agent) => {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await get(port, "/", agent ? { agent } : {})).body);
  return out;
};

describe.each(["h1", "node"] as const)("%s front end", (frontEnd) => {
  beforeEach(async () => {
    a = await startBackend("a");
    b = await startBackend("b");
    engine = new NodeEngine({ log: silentLogger, timeouts: { drainGraceMs: 200 }, httpFrontEnd: frontEnd });
    port = await freePort();
  });

  afterEach(async () => {
    await engine.stop();
    await a.close();
    await b.close();
  });

  describe("NodeEngine http listener", () => {
    it("round-robins requests over the pool's backends", async () => {
      await engine.apply(makeSnapshot(1, [httpListener(port)], [backend("a", a.port), backend("b", b.port)]));
      expect(await bodies(4)).toEqual(["a", "b", "a", "b"]);
      expect(engine.applied?.version).toBe(1);
    });

    it("reconfigures without re-binding: a kept-alive client keeps its connection", async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        await engine.apply(
          makeSnapshot(1, [httpListener(port)], [backend("a", a.port), backend("b", b.port)]),
        );
        const bindId = engine.listenerAt("127.0.0.1", port)?.bindId;
        const first = await get(port, "/", { agent });

        await engine.apply(
          makeSnapshot(
            2,
            [httpListener(port)],
            [backend("a", a.port, { state: "disabled" }), backend("b", b.port)],
          ),
        );
        expect(engine.listenerAt("127.0.0.1", port)?.bindId).toBe(bindId);
        const after = await get(port, "/", { agent });
        expect(after.reusedSocket).toBe(true);
        expect(after.localPort).toBe(first.localPort);
        expect(after.body).toBe("b");
        expect(await bodies(3)).toEqual(["b", "b", "b"]);
      } finally {
        agent.destroy();
      }
    });

    it("closes a client idle between requests after the listener's keepAliveMs, not before", async () => {
      const settings = (keepAliveMs: number) => ({
        settings: {
          timeouts: { connectMs: 1000, headMs: 1000, idleMs: 60_000, responseMs: 1000, keepAliveMs },
        },
      });
      const idleFor = async () => {
        const s = connect({ host: "127.0.0.1", port });
        s.on("error", () => {});
        let text = "";
        s.on("data", (d: Buffer) => {
          text += d.toString("latin1");
        });
        s.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        const answered = Date.now();
        await new Promise<void>((resolve) => s.once("close", () => resolve()));
        expect(text).toMatch(/^HTTP\/1\.1 200 /);
        return Date.now() - answered;
      };
      await engine.apply(makeSnapshot(1, [httpListener(port, settings(300))], [backend("a", a.port)]));
      const short = await idleFor();
      expect(short).toBeGreaterThanOrEqual(250);
      expect(short).toBeLessThan(3000);

      await engine.apply(makeSnapshot(2, [httpListener(port, settings(1500))], [backend("a", a.port)]));
      const longer = await idleFor();
      expect(longer).toBeGreaterThanOrEqual(1400);
      expect(longer).toBeLessThan(5000);
    });

    it("rejects a snapshot whose new listener cannot bind and keeps serving the old one", async () => {
      const blocker: Server = createServer();
      await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
      const taken = (blocker.address() as AddressInfo).port;
      try {
        await engine.apply(
          makeSnapshot(1, [httpListener(port)], [backend("a", a.port), backend("b", b.port)]),
        );
        const next = makeSnapshot(
          2,
          [httpListener(port), httpListener(taken)],
          [backend("a", a.port, { state: "disabled" }), backend("b", b.port)],
        );
        await expect(engine.apply(next)).rejects.toBeInstanceOf(ListenerBindError);
        await expect(engine.apply(next)).rejects.toThrow(/EADDRINUSE/);
        expect(engine.applied?.version).toBe(1);
        expect(new Set(await bodies(4))).toEqual(new Set(["a", "b"]));
      } finally {
        blocker.close();
      }
    });

    it("rejects invalid policy options without touching the running config", async () => {
      await engine.apply(makeSnapshot(1, [httpListener(port)], [backend("a", a.port)]));
      // The schema refuses these options too; the engine must refuse a snapshot that bypassed it.
      const bad = makeSnapshot(2, [httpListener(port)], [backend("b", b.port)], "consistent_hash");
      bad.pools[0]!.policyOptions = { key: "header" };
      await expect(engine.apply(bad)).rejects.toBeInstanceOf(SnapshotInvalidError);
      await expect(engine.apply(bad)).rejects.toThrow(/keyName/);
      expect(await bodies(2)).toEqual(["a", "a"]);
    });

    it("answers 503 with x-fulcrum-reason when every backend is disabled", async () => {
      await engine.apply(
        makeSnapshot(
          1,
          [httpListener(port)],
          [backend("a", a.port, { state: "disabled" }), backend("b", b.port, { state: "draining" })],
        ),
      );
      const r = await get(port);
      expect(r.status).toBe(503);
      expect(r.headers["x-fulcrum-reason"]).toBe("no-backend");
    });

    it("answers 502 when the backend port is closed", async () => {
      const closed = await freePort();
      await engine.apply(makeSnapshot(1, [httpListener(port)], [backend("gone", closed)]));
      const r = await get(port);
      expect(r.status).toBe(502);
      expect(r.headers["x-fulcrum-reason"]).toBe("upstream-connect-failed");
    });

    it("answers 504 when the backend does not answer in time", async () => {
      const silent = createHttpServer(() => {});
      await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
      const slow = new NodeEngine({
        log: silentLogger,
        timeouts: { drainGraceMs: 100 },
        httpFrontEnd: frontEnd,
      });
      try {
        const listener = httpListener(port, { settings: { timeouts: { responseMs: 200 } } });
        const silentPort = (silent.address() as AddressInfo).port;
        await slow.apply(makeSnapshot(1, [listener], [backend("slow", silentPort)]));
        const r = await get(port);
        expect(r.status).toBe(504);
        expect(r.headers["x-fulcrum-reason"]).toBe("upstream-response-timeout");
      } finally {
        await slow.stop();
        silent.closeAllConnections();
        silent.close();
      }
    });

    it("answers 404 when no route matches, and routes by host and longest prefix", async () => {
      const l = httpListener(port, {
        routes: [
          { id: "r1", host: "api.example", pathPrefix: "/", priority: 0, poolId: "p1" },
          { id: "r2", host: "", pathPrefix: "/b", priority: 0, poolId: "p2" },
          { id: "r3", host: "", pathPrefix: "/bx", priority: 0, poolId: "p1" },
        ],
      });
      await engine.apply(
        makeSnapshot(1, [l], [backend("a", a.port)], "round_robin", [
          { id: "p2", backends: [backend("b", b.port)] },
        ]),
      );
      expect((await get(port, "/x", { host: "API.example:8080" })).body).toBe("a");
      expect((await get(port, "/b?q=1", { host: "other" })).body).toBe("b");
      expect((await get(port, "/bx/1", { host: "other" })).body).toBe("a");
      const miss = await get(port, "/nothing", { host: "other" });
      expect(miss.status).toBe(404);
      expect(miss.headers["x-fulcrum-reason"]).toBe("no-route");
    });

    it("sets X-Forwarded-* and drops hop-by-hop headers; trusts client X-Forwarded-* only when told", async () => {
      const ask = () =>
        get(port, "/", {
          host: "shop.example",
          headers: {
            "x-forwarded-for": "203.0.113.7",
            "x-forwarded-proto": "https",
            connection: "x-drop-me",
            "x-drop-me": "1",
          },
        });
      await engine.apply(makeSnapshot(1, [httpListener(port)], [backend("a", a.port)]));
      const r = await ask();
      expect(r.headers["x-seen-xff"]).toBe("127.0.0.1");
      expect(r.headers["x-seen-proto"]).toBe("http");
      expect(r.headers["x-seen-host"]).toBe("shop.example");
      expect(r.headers["x-seen-connection-token"]).toBe("");

      await engine.apply(
        makeSnapshot(2, [httpListener(port, { settings: { trustForwarded: true } })], [backend("a", a.port)]),
      );
      const t = await ask();
      expect(t.headers["x-seen-xff"]).toBe("203.0.113.7, 127.0.0.1");
      expect(t.headers["x-seen-proto"]).toBe("https");
      expect(t.headers["x-seen-connection-token"]).toBe("");
    });

    it("stops accepting on a listener removed by a new snapshot", async () => {
      const other = await freePort();
      await engine.apply(makeSnapshot(1, [httpListener(port), httpListener(other)], [backend("a", a.port)]));
      expect((await get(other)).body).toBe("a");
      await engine.apply(makeSnapshot(2, [httpListener(port)], [backend("a", a.port)]));
      await expect(get(other)).rejects.toThrow(/ECONNREFUSED/);
      expect((await get(port)).body).toBe("a");
    });
  });
});
