import { Agent } from "node:http";
import type { HealthEvent } from "@fulcrum/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NodeEngine } from "../src/engines/builtin/node-engine";
import { silentLogger } from "../src/log";
import { type CtlBackend, collectEvents, countBy, sleep, startCtlBackend, until } from "./helpers/backends";
import { freePort, get, type Reply } from "./helpers/net";
import { backend, httpListener, makeSnapshot, type PoolInput } from "./helpers/snapshot";

let a: CtlBackend;
let b: CtlBackend;
let engine: NodeEngine;
let port: number;
let events: HealthEvent[];
let unsubscribe: () => void;

const snap = (v: number, pool: Partial<PoolInput> = {}, over: { a?: object; b?: object } = {}) =>
  makeSnapshot(
    v,
    [httpListener(port)],
    [backend("a", a.port, over.a), backend("b", b.port, over.b)],
    "round_robin",
    [],
    pool,
  );

/** `total` GETs over `concurrency` keep-alive connections; every reply is kept. */
async function load(total: number, concurrency: number, during?: (done: number) => void): Promise<Reply[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const replies: Reply[] = [];
  let started = 0;
  const worker = async () => {
    while (started < total) {
      started++;
      replies.push(await get(port, "/", { agent }).catch((e) => ({ status: -1, body: String(e) }) as Reply));
      during?.(replies.length);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return replies;
}

describe.each(["h1", "node"] as const)("%s front end", (frontEnd) => {
  beforeEach(async () => {
    [a, b] = await Promise.all([startCtlBackend("a"), startCtlBackend("b")]);
    engine = new NodeEngine({ log: silentLogger, timeouts: { drainGraceMs: 200 }, httpFrontEnd: frontEnd });
    ({ events, stop: unsubscribe } = collectEvents((fn) => engine.onHealthEvent(fn)));
    port = await freePort();
  });

  afterEach(async () => {
    unsubscribe();
    await engine.stop();
    await Promise.all([a.close(), b.close()]);
  });

  describe("active health checks", () => {
    it("takes a failing backend out within fall × interval and brings it back after rise", async () => {
      const healthCheck = {
        type: "http" as const,
        intervalMs: 100,
        timeoutMs: 80,
        rise: 2,
        fall: 2,
        path: "/health",
      };
      await engine.apply(snap(1, { healthCheck, outlierDetection: { enabled: false } }));
      await until(() => a.healthChecks >= 2, 2000);
      expect(new Set((await Promise.all([get(port), get(port)])).map((r) => r.body))).toEqual(
        new Set(["a", "b"]),
      );

      a.healthStatus = 503;
      const t0 = Date.now();
      expect(await until(() => events.some((e) => e.state === "down"), 2000)).toBe(true);
      // fall (2) × interval (100 ms) + jitter and check time.
      expect(Date.now() - t0).toBeLessThan(2 * 110 + 380);
      const down = events.find((e) => e.state === "down")!;
      expect(down).toMatchObject({ poolId: "p1", backendId: "a", address: "127.0.0.1", port: a.port });
      expect(down.reason).toMatch(/503/);
      const hitsBefore = a.hits;
      for (let i = 0; i < 6; i++) expect((await get(port)).body).toBe("b");
      expect(a.hits).toBe(hitsBefore);

      a.healthStatus = 200;
      expect(await until(() => events.some((e) => e.state === "up"), 2000)).toBe(true);
      expect(new Set((await Promise.all([get(port), get(port), get(port)])).map((r) => r.body))).toEqual(
        new Set(["a", "b"]),
      );
      expect(engine.stats().backends[`127.0.0.1:${a.port}`]!.healthTransitions).toBe(2);
    });

    it("tcp checks see a closed port; a body mismatch fails an http check", async () => {
      const closedPort = await freePort();
      await engine.apply(
        makeSnapshot(
          1,
          [httpListener(port)],
          [backend("a", a.port), backend("gone", closedPort)],
          "round_robin",
          [],
          { healthCheck: { type: "tcp", intervalMs: 100, timeoutMs: 80, rise: 1, fall: 1 } },
        ),
      );
      expect(await until(() => events.some((e) => e.backendId === "gone" && e.state === "down"), 2000)).toBe(
        true,
      );
      expect(events.some((e) => e.backendId === "a")).toBe(false);
      await engine.apply(
        snap(2, {
          healthCheck: {
            type: "http",
            intervalMs: 100,
            timeoutMs: 80,
            rise: 1,
            fall: 1,
            path: "/health",
            expectBody: "nope",
          },
        }),
      );
      expect(await until(() => events.filter((e) => e.state === "down").length >= 3, 2000)).toBe(true);
      const r = await get(port);
      expect(r.status).toBe(503);
    });
  });

  describe("failover", () => {
    it("a backend killed under load costs no idempotent request (retry + ejection)", async () => {
      await engine.apply(snap(1, { outlierDetection: { consecutiveFailures: 2, baseEjectionMs: 5000 } }));
      let killed = false;
      const replies = await load(300, 4, (n) => {
        if (n >= 60 && !killed) {
          killed = true;
          void b.close();
        }
      });
      const failed = replies.filter((r) => r.status !== 200);
      expect(failed).toEqual([]);
      expect(replies.length).toBe(300);
      expect(events.some((e) => e.backendId === "b" && e.state === "ejected")).toBe(true);
      const s = engine.stats();
      expect(s.pools.p1!.retries).toBeGreaterThan(0);
      expect(s.pools.p1!.retries).toBeLessThan(20);
      expect(s.backends[`127.0.0.1:${b.port}`]!.connectFailures).toBeGreaterThan(0);
    });

    it("5xx answers eject a backend for a while; it comes back after the period (restored)", async () => {
      // The window is long enough for a request to fit inside it on a loaded machine; what the
      // test proves is judged by event order (sent after "ejected", answered before "restored"),
      // not by how fast requests go: with 300 ms, a slow loop outlived the window and b, back
      // and still failing, was ejected twice.
      const baseEjectionMs = 1000;
      await engine.apply(
        snap(1, {
          outlierDetection: { consecutiveFailures: 3, baseEjectionMs },
          retries: { enabled: false },
        }),
      );
      const ejected = () => events.some((e) => e.state === "ejected");
      const restored = () => events.some((e) => e.state === "restored");
      b.status = 500;
      const statuses: number[] = [];
      while (!ejected() && statuses.length < 20) statuses.push((await get(port)).status);
      // b is out after exactly its third 500 in a row; healthy again, it would still get nothing while ejected.
      expect(statuses.filter((s) => s === 500)).toHaveLength(3);
      expect(events.filter((e) => e.state === "ejected").map((e) => e.backendId)).toEqual(["b"]);
      b.status = 200;

      // Ejected: every request sent after the ejection and answered before the restore went to a.
      const whileEjected: string[] = [];
      for (let sent = 0; !restored() && sent < 5000; sent++) {
        const body = (await get(port)).body;
        if (!restored()) whileEjected.push(body);
      }
      expect(restored()).toBe(true);
      expect(whileEjected.length).toBeGreaterThan(0);
      expect(new Set(whileEjected)).toEqual(new Set(["a"]));
      // Not back before the period (event times are wall-clock ms: allow for rounding, not more).
      const at = (state: string) => Date.parse(events.find((e) => e.state === state)!.at);
      expect(at("restored") - at("ejected")).toBeGreaterThanOrEqual(baseEjectionMs - 5);
      expect(new Set((await Promise.all([get(port), get(port)])).map((r) => r.body))).toEqual(
        new Set(["a", "b"]),
      );
    });

    it("maxEjectedPercent keeps the last backend in", async () => {
      await engine.apply(
        snap(1, {
          outlierDetection: { consecutiveFailures: 2, maxEjectedPercent: 100 },
          retries: { enabled: false },
        }),
      );
      a.status = 500;
      b.status = 500;
      for (let i = 0; i < 12; i++) expect((await get(port)).status).toBe(500);
      expect(events.filter((e) => e.state === "ejected").length).toBe(1);
    });
  });

  describe("draining", () => {
    it("lets in-flight work finish, sends nothing new, then reports drained once", async () => {
      await engine.apply(snap(1));
      const slow = [get(port, "/slow"), get(port, "/slow")];
      await until(() => a.held === 1 && b.held === 1, 2000);
      await engine.apply(snap(2, {}, { a: { state: "draining" } }));
      const hits = a.hits;
      for (let i = 0; i < 4; i++) expect((await get(port)).body).toBe("b");
      expect(a.hits).toBe(hits);
      expect(events.filter((e) => e.state === "drained")).toEqual([]);
      a.release();
      b.release();
      expect((await Promise.all(slow)).map((r) => `${r.status}${r.body}`).sort()).toEqual(["200a", "200b"]);
      expect(await until(() => events.some((e) => e.state === "drained"), 1000)).toBe(true);
      await engine.apply(snap(3, { slowStartMs: 0 }, { a: { state: "draining" } }));
      await get(port);
      const drained = events.filter((e) => e.state === "drained");
      expect(drained).toHaveLength(1);
      expect(drained[0]).toMatchObject({ poolId: "p1", backendId: "a", port: a.port });
    });
  });

  describe("backend state registry", () => {
    it("drops a removed backend's state only after its in-flight request finishes", async () => {
      await engine.apply(snap(1));
      const slow = [get(port, "/slow"), get(port, "/slow")];
      await until(() => a.held === 1 && b.held === 1, 2000);
      await engine.apply(makeSnapshot(2, [httpListener(port)], [backend("a", a.port)]));
      const bKey = `127.0.0.1:${b.port}`;
      expect(engine.stats().backends[bKey]?.inFlight).toBe(1);
      expect((await get(port)).body).toBe("a");
      b.release();
      a.release();
      expect((await Promise.all(slow)).map((r) => r.status)).toEqual([200, 200]);
      expect(await until(() => engine.stats().backends[bKey] === undefined, 1000)).toBe(true);
      expect(engine.stats().backends[`127.0.0.1:${a.port}`]!.attempts).toBe(2);
    });
  });

  describe("slow start", () => {
    it("a backend that comes back ramps its share over slowStartMs", async () => {
      const pool = { slowStartMs: 1500 };
      const two = (v: number, bState: "enabled" | "disabled") =>
        makeSnapshot(
          v,
          [httpListener(port)],
          [backend("a", a.port, { weight: 10 }), backend("b", b.port, { weight: 10, state: bState })],
          "weighted_round_robin",
          [],
          pool,
        );
      await engine.apply(two(1, "enabled"));
      await engine.apply(two(2, "disabled"));
      await engine.apply(two(3, "enabled"));
      const early = countBy(
        await Promise.all(Array.from({ length: 40 }, () => get(port).then((r) => r.body))),
      );
      await sleep(1600);
      const late = countBy(
        await Promise.all(Array.from({ length: 40 }, () => get(port).then((r) => r.body))),
      );
      expect(early.get("b") ?? 0).toBeGreaterThan(0);
      expect(early.get("b") ?? 0).toBeLessThanOrEqual(10);
      expect(late.get("b")).toBe(20);
    });
  });

  describe("hitless reconfiguration", () => {
    it("swaps snapshots under load with zero failures; an ejection survives the swap", async () => {
      const od = { consecutiveFailures: 2, baseEjectionMs: 10_000 };
      await engine.apply(snap(1, { outlierDetection: od, retries: { enabled: false } }));
      b.status = 500;
      for (let i = 0; i < 6; i++) await get(port);
      expect(events.filter((e) => e.state === "ejected")).toHaveLength(1);
      b.status = 200;

      let v = 1;
      const swaps: Promise<void>[] = [];
      const replies = await load(300, 4, (n) => {
        if (n % 30 === 0) {
          v++;
          swaps.push(engine.apply(snap(v, { outlierDetection: od }, { a: { weight: 1 + (v % 3) } })));
        }
      });
      await Promise.all(swaps);
      expect(v).toBeGreaterThan(5);
      expect(replies.filter((r) => r.status !== 200)).toEqual([]);
      // Still ejected after all the swaps: nothing reached b.
      expect(new Set(replies.map((r) => r.body))).toEqual(new Set(["a"]));
      expect(engine.listenerAt("127.0.0.1", port)).toBeDefined();
    });
  });

  describe("statistics", () => {
    it("counters add up per listener, route, pool and backend", async () => {
      await engine.apply(snap(1, { retries: { enabled: false }, outlierDetection: { enabled: false } }));
      b.status = 503;
      for (let i = 0; i < 10; i++) await get(port);
      await get(port, "/", { host: "x" });
      const s = engine.stats();
      expect(JSON.parse(JSON.stringify(s))).toEqual(s);
      const l = s.listeners[`l-${port}`]!;
      const classes = (t: { responses: Record<string, number> }) =>
        Object.values(t.responses).reduce((x, y) => x + y, 0);
      expect(l.requests).toBe(11);
      expect(classes(l)).toBe(l.requests);
      expect(l.responses["2xx"]).toBe(6);
      expect(l.responses["5xx"]).toBe(5);
      const r = s.routes[`r-${port}`]!;
      expect(r.requests).toBe(11);
      expect(classes(r)).toBe(11);
      const p = s.pools.p1!;
      expect(p.requests).toBe(11);
      expect(classes(p)).toBe(11);
      expect(p.latency.count).toBe(11);
      // The node path counts body bytes, h1 counts wire bytes (heads too): at least the 11 one-byte bodies.
      expect(p.bytesOut).toBeGreaterThanOrEqual(11);
      const ba = s.backends[`127.0.0.1:${a.port}`]!;
      const bb = s.backends[`127.0.0.1:${b.port}`]!;
      expect(ba.attempts + bb.attempts).toBe(11);
      expect(bb.status5xx).toBe(bb.attempts);
      expect(ba.status2xx).toBe(ba.attempts);
      expect(ba.inFlight).toBe(0);
      expect(l.totalConnections).toBe(11);
      expect(await until(() => engine.stats().listeners[`l-${port}`]!.activeConnections === 0, 1000)).toBe(
        true,
      );
    });
  });
});
