import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NodeEngine } from "../src/engines/builtin/node-engine";
import { silentLogger } from "../src/log";
import { type CtlBackend, countBy, sleep, startCtlBackend, until } from "./helpers/backends";
import { freePort, get } from "./helpers/net";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";

let a: CtlBackend;
let b: CtlBackend;
let c: CtlBackend;
let engine: NodeEngine;
let port: number;

const names = async (n: number, path = "/", headers: Record<string, string> = {}) => {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await get(port, path, { headers });
    expect(r.status).toBe(200);
    out.push(r.body);
  }
  return out;
};

describe.each(["h1", "node"] as const)("%s front end", (frontEnd) => {
  beforeEach(async () => {
    [a, b, c] = await Promise.all([startCtlBackend("a"), startCtlBackend("b"), startCtlBackend("c")]);
    engine = new NodeEngine({ log: silentLogger, timeouts: { drainGraceMs: 200 }, httpFrontEnd: frontEnd });
    port = await freePort();
  });

  afterEach(async () => {
    await engine.stop();
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  describe("policies through the real proxy", () => {
    it("weighted_round_robin splits by weight", async () => {
      await engine.apply(
        makeSnapshot(
          1,
          [httpListener(port)],
          [backend("a", a.port, { weight: 3 }), backend("b", b.port, { weight: 1 })],
          "weighted_round_robin",
        ),
      );
      const counts = countBy(await names(40));
      expect(counts.get("a")).toBe(30);
      expect(counts.get("b")).toBe(10);
    });

    it("least_connections sends new requests to the idle backend while a slow one is pending", async () => {
      await engine.apply(
        makeSnapshot(
          1,
          [httpListener(port)],
          [backend("a", a.port), backend("b", b.port)],
          "least_connections",
        ),
      );
      // Two slow requests: one lands on each backend (ties broken at random, then the idle one wins).
      const slow1 = get(port, "/slow");
      await until(() => a.held + b.held === 1, 2000);
      const busy = a.held === 1 ? "a" : "b";
      const idle = busy === "a" ? "b" : "a";
      expect(new Set(await names(6))).toEqual(new Set([idle]));
      a.release();
      b.release();
      expect((await slow1).body).toBe(busy);
    });

    it("source_ip_hash keeps one client on one backend", async () => {
      await engine.apply(
        makeSnapshot(
          1,
          [httpListener(port)],
          [backend("a", a.port), backend("b", b.port), backend("c", c.port)],
          "source_ip_hash",
        ),
      );
      expect(new Set(await names(12)).size).toBe(1);
    });

    it("consistent_hash on a header: the same key sticks, keys spread", async () => {
      await engine.apply(
        makeSnapshot(
          1,
          [httpListener(port)],
          // Weights 3+3+2 and 3+3 keep the ring's points-per-weight unchanged (see the report on ring.ts).
          [
            backend("a", a.port, { weight: 3 }),
            backend("b", b.port, { weight: 3 }),
            backend("c", c.port, { weight: 2 }),
          ],
          "consistent_hash",
          [],
          { policyOptions: { key: "header", keyName: "X-User" } },
        ),
      );
      const owners = new Map<string, string>();
      for (let u = 0; u < 24; u++) {
        const got = new Set(await names(3, "/", { "x-user": `user-${u}` }));
        expect(got.size).toBe(1);
        owners.set(`user-${u}`, [...got][0]!);
      }
      expect(new Set(owners.values()).size).toBeGreaterThan(1);
      // Removing one backend remaps only the keys it owned.
      await engine.apply(
        makeSnapshot(
          2,
          [httpListener(port)],
          [
            backend("a", a.port, { weight: 3 }),
            backend("b", b.port, { weight: 3 }),
            backend("c", c.port, { weight: 2, state: "disabled" }),
          ],
          "consistent_hash",
          [],
          { policyOptions: { key: "header", keyName: "X-User" } },
        ),
      );
      for (const [user, owner] of owners) {
        if (owner === "c") continue;
        expect((await names(1, "/", { "x-user": user }))[0]).toBe(owner);
      }
    });

    it("first_available fills backends in order", async () => {
      await engine.apply(
        makeSnapshot(
          1,
          [httpListener(port)],
          [backend("a", a.port, { maxConnections: 1 }), backend("b", b.port), backend("c", c.port)],
          "first_available",
        ),
      );
      expect(new Set(await names(5))).toEqual(new Set(["a"]));
      const slow = get(port, "/slow");
      await until(() => a.held === 1, 2000);
      expect(new Set(await names(3))).toEqual(new Set(["b"]));
      a.release();
      expect((await slow).body).toBe("a");
    });
  });

  describe("persistence", () => {
    it("a sticky cookie pins the client and moves it when its backend goes away", async () => {
      const snap = (v: number, aState: "enabled" | "disabled" | "draining") =>
        makeSnapshot(
          v,
          [httpListener(port)],
          [backend("a", a.port, { state: aState }), backend("b", b.port)],
          "round_robin",
          [],
          { persistence: { type: "cookie", cookieName: "SRV" } },
        );
      await engine.apply(snap(1, "enabled"));
      const first = await get(port, "/");
      const setCookie = String(first.headers["set-cookie"]);
      expect(setCookie).toMatch(/^SRV=[A-Za-z0-9_-]+; Path=\/; HttpOnly$/);
      const value = setCookie.slice(4, setCookie.indexOf(";"));
      expect(value).not.toContain("127.0.0.1");
      expect(value).not.toContain(String(a.port));
      const cookie = { cookie: `other=1; SRV=${value}` };
      for (let i = 0; i < 6; i++) {
        const r = await get(port, "/", { headers: cookie });
        expect(r.body).toBe(first.body);
        expect(r.headers["set-cookie"]).toBeUndefined();
      }
      // Survives a snapshot update that keeps the backend.
      await engine.apply(snap(2, "enabled"));
      expect((await get(port, "/", { headers: cookie })).body).toBe(first.body);

      // The stuck backend goes: the client moves and the cookie is rewritten.
      await engine.apply(first.body === "a" ? snap(3, "disabled") : snap(3, "enabled"));
      if (first.body === "b") {
        await b.close();
        b = await startCtlBackend("b2");
      }
      const moved = await get(port, "/", { headers: cookie });
      expect(moved.status).toBe(200);
      expect(moved.body).not.toBe(first.body);
      expect(String(moved.headers["set-cookie"])).toMatch(/^SRV=/);
      expect(String(moved.headers["set-cookie"])).not.toContain(value);
    });

    it("source_ip affinity pins round-robin traffic and moves off a draining backend", async () => {
      const snap = (v: number, draining?: string) =>
        makeSnapshot(
          v,
          [httpListener(port)],
          [
            backend("a", a.port, { state: draining === "a" ? "draining" : "enabled" }),
            backend("b", b.port, { state: draining === "b" ? "draining" : "enabled" }),
          ],
          "round_robin",
          [],
          { persistence: { type: "source_ip", ttlSeconds: 60 } },
        );
      await engine.apply(snap(1));
      const got = await names(8);
      expect(new Set(got).size).toBe(1);
      const owner = got[0]!;
      await engine.apply(snap(2));
      expect(new Set(await names(3))).toEqual(new Set([owner]));
      await engine.apply(snap(3, owner));
      const after = await names(4);
      expect(new Set(after).size).toBe(1);
      expect(after[0]).not.toBe(owner);
      // The affinity was updated: it stays on the new backend when the old one is back.
      await engine.apply(snap(4));
      expect(new Set(await names(3))).toEqual(new Set([after[0]]));
    });
  });

  describe("per-backend limits and the queue", () => {
    it("queues beyond maxConnections, answers 503 queue-full and queue-timeout", async () => {
      await engine.apply(
        makeSnapshot(
          1,
          [httpListener(port)],
          [backend("a", a.port, { maxConnections: 1 })],
          "round_robin",
          [],
          {
            limits: { queueSize: 1, queueTimeoutMs: 300 },
          },
        ),
      );
      const slow = get(port, "/slow");
      await until(() => a.held === 1, 2000);
      const queued = get(port, "/");
      await until(() => engine.pool("p1")!.queueLength === 1, 2000);
      const full = await get(port, "/");
      expect(full.status).toBe(503);
      expect(full.headers["x-fulcrum-reason"]).toBe("queue-full");
      const t0 = Date.now();
      const timedOut = await queued;
      expect(timedOut.status).toBe(503);
      expect(timedOut.headers["x-fulcrum-reason"]).toBe("queue-timeout");
      expect(Date.now() - t0).toBeLessThan(1000);
      // A queued request is served as soon as the slot frees.
      const waiting = get(port, "/");
      await until(() => engine.pool("p1")!.queueLength === 1, 2000);
      a.release();
      expect((await slow).status).toBe(200);
      expect((await waiting).body).toBe("a");
      const s = engine.stats().pools.p1!;
      expect(s.queueFull).toBe(1);
      expect(s.queueTimeouts).toBe(1);
      expect(s.queued).toBe(2);
      await sleep(0);
    });

    it("tryAcquire answers synchronously while a slot is free and leaves the wait to acquire()", async () => {
      await engine.apply(
        makeSnapshot(
          1,
          [httpListener(port)],
          [backend("a", a.port, { maxConnections: 1 })],
          "round_robin",
          [],
          {
            limits: { queueSize: 1, queueTimeoutMs: 5000 },
          },
        ),
      );
      const pool = engine.pool("p1")!;
      const facts = {
        method: "GET",
        path: "/",
        host: "",
        clientIp: "127.0.0.1",
        header: () => undefined,
        cookie: () => undefined,
      };
      const first = pool.tryAcquire(facts);
      expect(first?.ok).toBe(true);
      // At its limit: no answer now, and nothing counted or chosen.
      const before = { ...engine.stats().pools.p1! };
      expect(pool.tryAcquire(facts)).toBeUndefined();
      expect(engine.stats().pools.p1!.queued).toBe(before.queued);
      expect(engine.stats().backends[`127.0.0.1:${a.port}`]!.attempts).toBe(1);
      // acquire() queues; the freed slot serves it.
      const waiting = pool.acquire(facts);
      expect(pool.queueLength).toBe(1);
      // The queue is full now: the synchronous path answers queue-full.
      expect(pool.tryAcquire(facts)).toEqual({ ok: false, reason: "queue-full" });
      if (first?.ok) first.lease.finish({ kind: "client-aborted" });
      const second = await waiting;
      expect(second.ok).toBe(true);
      if (second.ok) second.lease.finish({ kind: "client-aborted" });
      const s = engine.stats().pools.p1!;
      expect(s.queued).toBe(1);
      expect(s.queueFull).toBe(1);
      expect(engine.stats().backends[`127.0.0.1:${a.port}`]!.inFlight).toBe(0);
    });

    it("a client that leaves while queued gives up its place", async () => {
      await engine.apply(
        makeSnapshot(
          1,
          [httpListener(port)],
          [backend("a", a.port, { maxConnections: 1 })],
          "round_robin",
          [],
          {
            limits: { queueSize: 1, queueTimeoutMs: 5000 },
          },
        ),
      );
      const slow = get(port, "/slow");
      await until(() => a.held === 1, 2000);
      const { request } = await import("node:http");
      const gone = request({ host: "127.0.0.1", port, path: "/", agent: false });
      gone.on("error", () => {});
      gone.end();
      await until(() => engine.pool("p1")!.queueLength === 1, 2000);
      gone.destroy();
      expect(await until(() => engine.pool("p1")!.queueLength === 0, 1000)).toBe(true);
      a.release();
      await slow;
    });
  });
});
