import { decodeAgentMessage, encodeAgentMessage, type HealthEvent } from "@fulcrum/protocol";
import { describe, expect, it } from "vitest";
import {
  agentLimitsFromEnv,
  DEFAULT_AGENT_LIMITS,
  FLOOD_WINDOW_MS,
} from "../src/server/gateway/agent-limits";
import { AgentReports, storable } from "../src/server/gateway/agent-reports";
import { FloodPenalty } from "../src/server/gateway/flood-penalty";
import { FrameLimiter } from "../src/server/gateway/frame-limiter";
import { LogThrottle, logSafe } from "../src/server/gateway/log-throttle";
import { UpgradeLimiter } from "../src/server/gateway/upgrade-limiter";

/** A clock the test moves by hand. */
function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("agent limit settings", () => {
  it("default without FULCRUM_AGENT_* and read whole decimal numbers only", () => {
    expect(agentLimitsFromEnv({} as NodeJS.ProcessEnv)).toEqual(DEFAULT_AGENT_LIMITS);
    const set = agentLimitsFromEnv({
      FULCRUM_AGENT_FRAMES_PER_SECOND: "100",
      FULCRUM_AGENT_FLOOD_BACKOFF_SECONDS: "60",
    } as unknown as NodeJS.ProcessEnv);
    expect(set).toMatchObject({ framesPerSecond: 100, floodBackoffMs: 60_000, frameBurst: 60 });
    for (const bad of ["", "0x50", "1e3", "-5", "0", "12.5", " 7"]) {
      expect(() =>
        agentLimitsFromEnv({ FULCRUM_AGENT_FRAMES_PER_SECOND: bad } as unknown as NodeJS.ProcessEnv),
      ).toThrow(/FULCRUM_AGENT_FRAMES_PER_SECOND must be/);
    }
  });
});

describe("frame limiter", () => {
  const limits = { ...DEFAULT_AGENT_LIMITS, framesPerSecond: 10, frameBurst: 20, floodDrops: 50 };

  it("lets a burst through, then the sustained rate, dropping the rest", () => {
    const c = clock();
    const l = new FrameLimiter(limits, c.now);
    const verdicts = Array.from({ length: 25 }, () => l.admit());
    expect(verdicts.filter((v) => v === "accept")).toHaveLength(20);
    expect(verdicts.slice(20)).toEqual(Array(5).fill("drop"));
    expect(l.takeDropped()).toBe(5);
    expect(l.takeDropped()).toBe(0);
    c.advance(500);
    expect(Array.from({ length: 5 }, () => l.admit())).toEqual(Array(5).fill("accept"));
    expect(l.admit()).toBe("drop");
  });

  it("slows reading over the byte rate instead of dropping, for as long as the excess takes at the rate", () => {
    const c = clock();
    const l = new FrameLimiter({ ...limits, byteBurst: 1000, bytesPerSecond: 100 }, c.now);
    expect(l.pauseFor(900)).toBe(0);
    expect(l.pauseFor(300)).toBeCloseTo(2000);
    c.advance(2000);
    expect(l.pauseFor(100)).toBeCloseTo(1000);
  });

  it("closes only an agent that keeps flooding", () => {
    const c = clock();
    const l = new FrameLimiter(limits, c.now);
    // A slightly-too-chatty agent: drops now and then, never closed.
    for (let s = 0; s < 30; s++) {
      c.advance(1000);
      for (let i = 0; i < 12; i++) expect(l.admit()).not.toBe("close");
    }
    // A flood: closed once more than floodDrops are dropped within one window.
    c.advance(FLOOD_WINDOW_MS);
    const verdicts = Array.from({ length: 200 }, () => l.admit());
    expect(verdicts.indexOf("close")).toBe(20 + 50);
  });
});

describe("agent reports", () => {
  const event = (backendId: string, state: HealthEvent["state"], over: Partial<HealthEvent> = {}) => ({
    poolId: "p1",
    backendId,
    address: "10.0.0.1",
    port: 80,
    state,
    at: new Date(0).toISOString(),
    ...over,
  });

  it("records an ack or nack once per version and reason, only for versions sent, a few reasons per version", () => {
    const r = new AgentReports(DEFAULT_AGENT_LIMITS);
    expect(r.answer("nack", 3, "port in use")).toBe("unsent");
    r.sent(3);
    expect(r.answer("nack", 3, "port in use")).toBe("new");
    expect(r.answer("nack", 3, "port in use")).toBe("repeat");
    expect(r.answer("ack", 3)).toBe("new");
    expect(r.answer("nack", 3, "b")).toBe("new");
    expect(r.answer("nack", 3, "c")).toBe("new");
    expect(r.answer("nack", 3, "d")).toBe("too-many");
    // Only the last 16 versions sent are remembered.
    for (let v = 4; v < 20; v++) r.sent(v);
    expect(r.answer("ack", 3)).toBe("unsent");
    expect(r.answer("ack", 19)).toBe("new");
  });

  it("keeps health changes, drops repeats of a backend's state and malformed events, and caps changes", () => {
    const r = new AgentReports({ healthEventsPerSecond: 1, healthEventBurst: 3 });
    const first = r.health([
      event("b1", "down"),
      event("b1", "down"),
      event("b2", "down"),
      event("b1", "up"),
    ]);
    expect(first.fresh.map((e) => `${e.backendId}:${e.state}`)).toEqual(["b1:down", "b2:down", "b1:up"]);
    expect(first.repeats).toBe(1);
    const bad = r.health([
      event("b\r\nX", "down"),
      event("b3", "down", { at: "yesterday" }),
      event("b3", "down", { address: "x".repeat(300) }),
      event("b3", "down", { port: 70000 }),
    ]);
    expect(bad).toEqual({ fresh: [], repeats: 0, refused: 4 });
    // The budget is spent: a further change is refused, not stored.
    expect(r.health([event("b2", "up")])).toEqual({ fresh: [], repeats: 0, refused: 1 });
  });

  it("makes text storable in PostgreSQL (no NUL)", () => {
    expect(storable("a\u0000b")).toBe("a\uFFFDb");
    expect(storable("plain")).toBe("plain");
  });
});

describe("log lines about agents", () => {
  it("escape control characters and cut long text", () => {
    expect(logSafe("ok\r\nforged line\u0000")).toBe("ok\\u000d\\u000aforged line\\u0000");
    expect(logSafe("x".repeat(400), 10)).toBe(`${"x".repeat(10)}…`);
  });

  it("are limited per reason per window, and the next line says how many were suppressed", () => {
    const c = clock();
    const lines: Array<[string, Record<string, unknown> | undefined]> = [];
    const log = {
      info: (m: string, f?: Record<string, unknown>) => lines.push([m, f]),
      warn: (m: string, f?: Record<string, unknown>) => lines.push([m, f]),
      error: (m: string, f?: Record<string, unknown>) => lines.push([m, f]),
    };
    const t = new LogThrottle(log, { windowMs: 10_000, perWindow: 2 }, c.now);
    for (let i = 0; i < 10; i++) t.write("warn", "nack", "agent refused snapshot", { i });
    t.write("warn", "other", "other reason", {});
    expect(lines).toHaveLength(3);
    expect(t.pending()).toEqual({ nack: 8 });
    c.advance(10_000);
    t.write("warn", "nack", "agent refused snapshot", { i: 10 });
    expect(lines.at(-1)).toEqual(["agent refused snapshot", { i: 10, suppressed: 8 }]);
  });
});

describe("flood penalty", () => {
  it("refuses a credential for the back-off, then forgets it", () => {
    const c = clock();
    const p = new FloodPenalty(c.now);
    expect(p.remaining("k")).toBe(0);
    p.add("k", 30_000);
    expect(p.remaining("k")).toBe(30_000);
    c.advance(29_000);
    expect(p.remaining("k")).toBe(1000);
    c.advance(1000);
    expect(p.remaining("k")).toBe(0);
  });
});

describe("upgrade limiter", () => {
  it("allows a burst per key, then one per interval; check() looks without taking", () => {
    const c = clock();
    const l = new UpgradeLimiter(0.2, 3, c.now);
    expect([l.take("k"), l.take("k"), l.take("k")]).toEqual([0, 0, 0]);
    expect(l.take("k")).toBe(5000);
    expect(l.check("k")).toBe(5000);
    expect(l.take("other")).toBe(0);
    expect(l.check("unseen")).toBe(0);
    c.advance(5000);
    expect(l.check("k")).toBe(0);
    expect(l.check("k")).toBe(0);
    expect(l.take("k")).toBe(0);
    expect(l.take("k")).toBe(5000);
  });
});

describe("health events in the protocol", () => {
  it("refuse ids, addresses and times outside their grammar, so they never reach a log line or the database", () => {
    const good = {
      poolId: "7f1c2a9e-0b7d-4c59-9d0e-1b2c3d4e5f60",
      backendId: "b-1",
      address: "10.0.0.1",
      port: 8080,
      state: "down" as const,
      at: new Date().toISOString(),
    };
    const decode = (e: object) =>
      decodeAgentMessage(encodeAgentMessage("health", { events: [e as HealthEvent] }));
    expect(decode(good).ok).toBe(true);
    expect(decode({ ...good, address: "backend.internal" }).ok).toBe(true);
    for (const bad of [
      { backendId: "b\r\nforged=1" },
      { poolId: "x".repeat(200) },
      { address: "10.0.0.1\u0000" },
      { address: "a b" },
      { port: 70_000 },
      { at: "yesterday" },
    ]) {
      expect(decode({ ...good, ...bad }).ok, JSON.stringify(bad)).toBe(false);
    }
  });
});
