import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Snapshot } from "@fulcrum/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, spawnAgent } from "./helpers/agent-process";
import { type DelayBackend, sleep, startDelayBackend, until } from "./helpers/backends";
import { freePort, get } from "./helpers/net";
import { backend, httpListener, makeSnapshot, type PoolInput } from "./helpers/snapshot";

/**
 * Every balancing policy and failover rule through a REAL agent process
 * (`fulcrum-agent --config`, reloaded with SIGHUP) and real backends, not only
 * as pure functions in packages/balancer. Shares are asserted with wide bounds:
 * the point is the direction, on two shared cores.
 */

/** The agent serving a snapshot file; apply() rewrites it and waits for the reload to be applied. */
class FileAgent {
  private constructor(
    readonly proc: AgentProcess,
    private readonly file: string,
  ) {}

  static async start(dir: string, snapshot: Snapshot): Promise<FileAgent> {
    const file = join(dir, `snapshot-${snapshot.hash.slice(0, 8)}.json`);
    await writeFile(file, JSON.stringify(snapshot));
    const agent = new FileAgent(spawnAgent(["--config", file]), file);
    await agent.proc.waitFor(new RegExp(`applied snapshot version=${snapshot.version}\\b`), 15_000);
    return agent;
  }

  async apply(snapshot: Snapshot): Promise<void> {
    await writeFile(this.file, JSON.stringify(snapshot));
    this.proc.child.kill("SIGHUP");
    await this.proc.waitFor(new RegExp(`applied snapshot version=${snapshot.version}\\b`), 15_000);
  }
}

/** `concurrency` clients each sending requests back to back for `ms`; the names of the backends that answered. */
async function load(port: number, concurrency: number, ms: number): Promise<string[]> {
  const names: string[] = [];
  const end = Date.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const r = await get(port);
        expect(r.status).toBe(200);
        names.push(r.body);
      }
    }),
  );
  return names;
}

async function sequential(port: number, n: number): Promise<Array<{ status: number; body: string }>> {
  const out: Array<{ status: number; body: string }> = [];
  for (let i = 0; i < n; i++) {
    const r = await get(port);
    out.push({ status: r.status, body: r.body });
  }
  return out;
}

/** Polls `probe` every 100 ms for up to `ms`; whether it became true. */
async function eventually(probe: () => Promise<boolean>, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await probe()) return true;
    await sleep(100);
  }
  return false;
}

const share = (names: string[], name: string) => names.filter((n) => n === name).length / names.length;
const countOf = (names: string[]) => Object.fromEntries([...new Set(names)].map((n) => [n, share(names, n)]));

let dir: string;
let a: DelayBackend;
let b: DelayBackend;
let c: DelayBackend;
let port: number;
let agent: FileAgent | undefined;

/** A snapshot for pool p1 on the test's listener. */
const snap = (
  version: number,
  backends: Parameters<typeof makeSnapshot>[2],
  policy: Snapshot["pools"][number]["policy"] = "round_robin",
  pool: Partial<PoolInput> = {},
) => makeSnapshot(version, [httpListener(port)], backends, policy, [], pool);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fulcrum-policies-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("policies and failover through a real agent process", () => {
  beforeAll(async () => {
    [a, b, c] = await Promise.all([startDelayBackend("a"), startDelayBackend("b"), startDelayBackend("c")]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close(), c.close()]);
  });
  afterEach(async () => {
    await agent?.proc.stop();
    agent = undefined;
    for (const x of [a, b, c]) Object.assign(x, { delayMs: 0, status: 200, healthStatus: 200, hits: 0 });
  });

  it("power_of_two sends a slow backend (more requests in flight) a small share", async () => {
    port = await freePort();
    a.delayMs = 300;
    agent = await FileAgent.start(
      dir,
      snap(1, [backend("a", a.port), backend("b", b.port), backend("c", c.port)], "power_of_two"),
    );
    const names = await load(port, 12, 2500);
    // Round robin would give a third; a holds more requests in flight, so it loses most draws.
    expect(names.length).toBeGreaterThan(100);
    expect(share(names, "a"), JSON.stringify(countOf(names))).toBeLessThan(0.2);
    expect(share(names, "b")).toBeGreaterThan(0.3);
    expect(share(names, "c")).toBeGreaterThan(0.3);
  });

  it("least_response_time sends a slow backend a small share", async () => {
    port = await freePort();
    a.delayMs = 300;
    agent = await FileAgent.start(
      dir,
      snap(1, [backend("a", a.port), backend("b", b.port)], "least_response_time"),
    );
    const names = (await sequential(port, 30)).map((r) => r.body);
    // Round robin would give a half; a few picks of a may follow a latency spike of b on a busy machine.
    expect(share(names, "a"), JSON.stringify(countOf(names))).toBeLessThan(0.25);
    // Concurrent load: a fast backend with requests in flight still scores better than the slow one.
    const loaded = await load(port, 6, 1500);
    expect(share(loaded, "a"), JSON.stringify(countOf(loaded))).toBeLessThan(0.25);
  });

  it("backup servers get nothing while a primary serves, everything when all primaries are disabled or down, and give it back", async () => {
    port = await freePort();
    const pool = (aState: "enabled" | "disabled", bState: "enabled" | "disabled") => [
      backend("a", a.port, { state: aState }),
      backend("b", b.port, { state: bState }),
      backend("c", c.port, { backup: true }),
    ];
    const checked: Partial<PoolInput> = {
      healthCheck: { type: "http", path: "/health", intervalMs: 100, timeoutMs: 500, rise: 1, fall: 1 },
    };
    agent = await FileAgent.start(dir, snap(1, pool("enabled", "enabled"), "round_robin", checked));
    let names = (await sequential(port, 12)).map((r) => r.body);
    expect(new Set(names)).toEqual(new Set(["a", "b"]));

    // One primary disabled: the other takes it all, the backup still nothing.
    await agent.apply(snap(2, pool("disabled", "enabled"), "round_robin", checked));
    expect(new Set((await sequential(port, 8)).map((r) => r.body))).toEqual(new Set(["b"]));

    // Every primary disabled: the backup takes all of it.
    await agent.apply(snap(3, pool("disabled", "disabled"), "round_robin", checked));
    expect(new Set((await sequential(port, 8)).map((r) => r.body))).toEqual(new Set(["c"]));

    // A primary returns: the backup gives it back.
    await agent.apply(snap(4, pool("enabled", "enabled"), "round_robin", checked));
    names = (await sequential(port, 12)).map((r) => r.body);
    expect(new Set(names)).toEqual(new Set(["a", "b"]));

    // Every primary failing its health check: the backup again; healthy again: the primaries.
    a.healthStatus = 503;
    b.healthStatus = 503;
    expect(await eventually(async () => (await get(port)).body === "c")).toBe(true);
    expect(new Set((await sequential(port, 8)).map((r) => r.body))).toEqual(new Set(["c"]));
    a.healthStatus = 200;
    b.healthStatus = 200;
    await agent.proc.waitFor(/backend up[\s\S]*backend up/, 5000);
    expect(new Set((await sequential(port, 8)).map((r) => r.body))).toEqual(new Set(["a", "b"]));
  });

  it("first_available sends everything to the first backend while it has room, then the next", async () => {
    port = await freePort();
    agent = await FileAgent.start(
      dir,
      snap(
        1,
        [backend("a", a.port, { maxConnections: 1 }), backend("b", b.port), backend("c", c.port)],
        "first_available",
      ),
    );
    expect(new Set((await sequential(port, 6)).map((r) => r.body))).toEqual(new Set(["a"]));
    a.delayMs = 800;
    const held = get(port);
    await until(() => a.inFlight === 1, 2000);
    expect(new Set((await sequential(port, 4)).map((r) => r.body))).toEqual(new Set(["b"]));
    expect((await held).body).toBe("a");
  });

  it("outlier detection ejects a backend answering 5xx, and restores it after the ejection time", async () => {
    port = await freePort();
    agent = await FileAgent.start(
      dir,
      snap(1, [backend("a", a.port), backend("b", b.port)], "round_robin", {
        outlierDetection: { consecutiveFailures: 3, baseEjectionMs: 1500 },
        retries: { enabled: false },
      }),
    );
    b.status = 500;
    await sequential(port, 10);
    await agent.proc.waitFor(/backend ejected/, 3000);
    const hits = b.hits;
    const during = await sequential(port, 8);
    expect(during.every((r) => r.status === 200 && r.body === "a")).toBe(true);
    expect(b.hits).toBe(hits);
    b.status = 200;
    await agent.proc.waitFor(/backend restored/, 5000);
    expect(new Set((await sequential(port, 6)).map((r) => r.body))).toEqual(new Set(["a", "b"]));
  });

  it("retries carry an idempotent request past a dead backend; without retries it fails", async () => {
    port = await freePort();
    const dead = await freePort(); // nothing listens here
    const pool = (retries: boolean): Partial<PoolInput> => ({
      retries: { enabled: retries, attempts: 1, budgetPercent: 100 },
      outlierDetection: { enabled: false },
    });
    const backends = [backend("a", a.port), backend("dead", dead)];
    agent = await FileAgent.start(dir, snap(1, backends, "round_robin", pool(true)));
    const withRetries = await sequential(port, 20);
    expect(withRetries.filter((r) => r.status !== 200)).toEqual([]);
    await agent.apply(snap(2, backends, "round_robin", pool(false)));
    const without = await sequential(port, 20);
    expect(without.filter((r) => r.status === 502).length).toBeGreaterThan(3);
  });

  it("limits and the queue: beyond a backend's connections requests wait, then get 503 queue-full or queue-timeout", async () => {
    port = await freePort();
    agent = await FileAgent.start(
      dir,
      snap(1, [backend("a", a.port)], "round_robin", {
        limits: { maxConnectionsPerBackend: 1, queueSize: 1, queueTimeoutMs: 400 },
      }),
    );
    a.delayMs = 1500;
    const first = get(port);
    await until(() => a.inFlight === 1, 2000);
    const queued = get(port);
    await sleep(100);
    const full = await get(port);
    expect(full.status).toBe(503);
    expect(full.headers["x-fulcrum-reason"]).toBe("queue-full");
    const timedOut = await queued;
    expect(timedOut.status).toBe(503);
    expect(timedOut.headers["x-fulcrum-reason"]).toBe("queue-timeout");
    expect((await first).status).toBe(200);
    // A queued request is served once the slot frees.
    a.delayMs = 200;
    const [r1, r2] = await Promise.all([get(port), get(port)]);
    expect([r1.status, r2.status]).toEqual([200, 200]);
  });
});
