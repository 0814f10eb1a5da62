import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Snapshot } from "@fulcrum/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, spawnAgent } from "./helpers/agent-process";
import { type DelayBackend, startDelayBackend, until } from "./helpers/backends";
import { freePort, get } from "./helpers/net";
import { backend, httpListener, makeSnapshot, type PoolInput } from "./helpers/snapshot";
import { burst, metrics, perWorker, pollWorkers, workerPids } from "./helpers/workers";

/**
 * `fulcrum-agent --workers 2` as an operator runs it: a real control process,
 * two real worker processes sharing the listener, real backends. Which worker
 * accepted what is read from the agent's own Prometheus output
 * (fulcrum_worker_connections_total), not from inside the processes.
 */

/** Health checks per second a backend receives, over a 2 s window once checks run. */
async function checkRate(x: DelayBackend): Promise<number> {
  await until(() => x.healthHits >= 3, 20_000);
  const h0 = x.healthHits;
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, 2000));
  return ((x.healthHits - h0) * 1000) / (Date.now() - t0);
}

describe("--workers 2", () => {
  let dir: string;
  let file: string;
  let port: number;
  let metricsPort: number;
  let a: DelayBackend;
  let b: DelayBackend;
  let agent: AgentProcess;
  let version = 1;
  const refusedVersion = 50;

  const serve = async (s: Snapshot) => {
    await writeFile(file, JSON.stringify(s));
  };
  const snapshot = (backends: DelayBackend[], pool: Partial<PoolInput> = {}) =>
    makeSnapshot(
      version++,
      [httpListener(port)],
      backends.map((x) => backend(x.name, x.port)),
      "round_robin",
      [],
      pool,
    );
  const reload = async (s: Snapshot, expect = new RegExp(`applied snapshot version=${s.version} `)) => {
    await serve(s);
    const mark = agent.stderr().length;
    agent.child.kill("SIGHUP");
    const ok = await until(() => expect.test(agent.stderr().slice(mark)), 20_000, 20);
    if (!ok) throw new Error(`no ${expect} after reload; stderr:\n${agent.stderr().slice(mark)}`);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fulcrum-workers-"));
    file = join(dir, "snapshot.json");
    [a, b] = await Promise.all([startDelayBackend("a"), startDelayBackend("b")]);
    port = await freePort();
    metricsPort = await freePort();
    await serve(snapshot([a]));
    agent = spawnAgent(["--config", file, "--workers", "2", "--metrics-port", String(metricsPort)], {
      // Worker 1 refuses snapshot version 3 (test-only hook): one refusal must keep the old config everywhere.
      FULCRUM_TEST_WORKER_REFUSE: `1:${refusedVersion}`,
    });
    await agent.waitFor(/applied snapshot version=1/, 60_000);
  }, 90_000);

  afterAll(async () => {
    await agent?.stop();
    await Promise.all([a?.close(), b?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it("runs two worker processes that each accept a share of new connections", async () => {
    expect(workerPids(agent.child.pid!)).toHaveLength(2);
    const before = perWorker(await metrics(metricsPort), "fulcrum_worker_connections_total");
    const n = 300;
    const bodies = await burst(port, n, 16);
    expect(bodies.filter((x) => x !== "a")).toEqual([]);
    let after = new Map<number, number>();
    const counted = await pollWorkers(metricsPort, "fulcrum_worker_connections_total", (m) => {
      after = m;
      return [0, 1].reduce((sum, i) => sum + (m.get(i) ?? 0) - (before.get(i) ?? 0), 0) >= n;
    });
    expect(counted).toBe(true);
    const shares = [0, 1].map((i) => ((after.get(i) ?? 0) - (before.get(i) ?? 0)) / n);
    // The kernel wakes whichever worker waits in accept: not round robin, but neither may starve.
    // Measured here (2 shared cores, load generator on them too): 0.35-0.65. Bound: each ≥ 0.15.
    console.log("accept shares per worker", shares);
    for (const s of shares) expect(s).toBeGreaterThanOrEqual(0.15);
  }, 60_000);

  it("keeps the old config on every worker when one worker refuses a snapshot", async () => {
    await reload(snapshot([a]));
    // Next version sends everything to b; worker 1 refuses it (test-only hook), worker 0 had prepared it.
    version = refusedVersion;
    await reload(snapshot([b]), new RegExp(`snapshot rejected.*version=${refusedVersion}.*test_refusal`));
    const before = perWorker(await metrics(metricsPort), "fulcrum_worker_connections_total");
    const bodies = await burst(port, 60, 8);
    expect(new Set(bodies)).toEqual(new Set(["a"]));
    // Both workers answered some of them (so both still serve version 2).
    const both = await pollWorkers(metricsPort, "fulcrum_worker_connections_total", (m) =>
      [0, 1].every((i) => (m.get(i) ?? 0) > (before.get(i) ?? 0)),
    );
    expect(both).toBe(true);
    expect(agent.stderr()).not.toMatch(new RegExp(`applied snapshot version=${refusedVersion} `));
  }, 60_000);

  it("probes backends from one worker only, and every worker follows its verdicts", async () => {
    const hc = { type: "http" as const, path: "/health", intervalMs: 100, timeoutMs: 500, fall: 2, rise: 1 };
    await reload(snapshot([a, b], { healthCheck: hc }));
    const rate2 = await checkRate(a);
    // The same pool on an agent with one (in-process) data plane, against its own backend.
    const c = await startDelayBackend("c");
    const file1 = join(dir, "one.json");
    const port1 = await freePort();
    await writeFile(
      file1,
      JSON.stringify(
        makeSnapshot(1, [httpListener(port1)], [backend("c", c.port)], "round_robin", [], {
          healthCheck: hc,
        }),
      ),
    );
    const one = spawnAgent(["--config", file1]);
    try {
      await one.waitFor(/applied snapshot version=1/, 60_000);
      const rate1 = await checkRate(c);
      console.log("health checks per second: 2 workers", rate2, "1 worker", rate1);
      // Two probing workers would double it.
      expect(rate2 / rate1).toBeGreaterThan(0.6);
      expect(rate2 / rate1).toBeLessThan(1.5);
    } finally {
      await one.stop();
      await c.close();
    }
    // a fails its checks: worker 0 sees it, worker 1 (which probes nothing) must stop sending to it too.
    a.healthStatus = 500;
    await agent.waitFor(/backend down/, 10_000);
    const before = perWorker(await metrics(metricsPort), "fulcrum_worker_connections_total");
    const bodies = await burst(port, 60, 8);
    expect(new Set(bodies)).toEqual(new Set(["b"]));
    const both = await pollWorkers(metricsPort, "fulcrum_worker_connections_total", (m) =>
      [0, 1].every((i) => (m.get(i) ?? 0) > (before.get(i) ?? 0)),
    );
    expect(both).toBe(true);
    a.healthStatus = 200;
  }, 120_000);

  it("holds a per-backend connection limit across workers (each worker enforces its share)", async () => {
    a.healthStatus = 200;
    await reload(
      snapshot([a], { limits: { maxConnectionsPerBackend: 4, queueSize: 100, queueTimeoutMs: 20_000 } }),
    );
    a.delayMs = 150;
    a.maxInFlight = 0;
    const before = perWorker(await metrics(metricsPort), "fulcrum_worker_connections_total");
    try {
      const bodies = await burst(port, 60, 24);
      expect(bodies.filter((x) => x !== "a")).toEqual([]);
    } finally {
      a.delayMs = 0;
    }
    // Exact bound: 2 workers × floor(4 / 2). Both workers took part (else the bound proves nothing).
    expect(a.maxInFlight).toBeLessThanOrEqual(4);
    expect(a.maxInFlight).toBeGreaterThanOrEqual(3);
    const both = await pollWorkers(metricsPort, "fulcrum_worker_connections_total", (m) =>
      [0, 1].every((i) => (m.get(i) ?? 0) > (before.get(i) ?? 0)),
    );
    expect(both).toBe(true);
  }, 60_000);

  it("keeps a cookie-sticky client on its backend whichever worker accepts it", async () => {
    await reload(
      snapshot([a, b], { persistence: { type: "cookie", cookieName: "FULCRUM_STICKY", ttlSeconds: 3600 } }),
    );
    const first = await get(port, "/", { headers: { connection: "close" } });
    const cookie = String(first.headers["set-cookie"]?.[0] ?? "").split(";")[0]!;
    expect(cookie).toMatch(/^FULCRUM_STICKY=/);
    const before = perWorker(await metrics(metricsPort), "fulcrum_worker_connections_total");
    const bodies = await burst(port, 60, 8, { headers: { cookie } });
    expect(new Set(bodies)).toEqual(new Set([first.body]));
    // Both workers read the cookie (so "whichever worker" is tested, not assumed).
    const both = await pollWorkers(metricsPort, "fulcrum_worker_connections_total", (m) =>
      [0, 1].every((i) => (m.get(i) ?? 0) > (before.get(i) ?? 0)),
    );
    expect(both).toBe(true);
  }, 60_000);

  it("restarts a worker killed with kill -9 under load while the other keeps serving", async () => {
    const [, victim] = workerPids(agent.child.pid!);
    let failures = 0;
    let served = 0;
    let running = true;
    const load = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (running) {
          const r = await get(port, "/", { headers: { connection: "close" } }).catch(() => undefined);
          if (r?.status === 200) served++;
          else failures++;
        }
      }),
    );
    await until(() => served > 50, 10_000);
    process.kill(victim!, "SIGKILL");
    const servedAtKill = served;
    await until(() => served > servedAtKill + 100, 10_000);
    // Back: a new worker process, restart counted, serving again.
    const back = await until(
      () => {
        const pids = workerPids(agent.child.pid!);
        return pids.length === 2 && !pids.includes(victim!);
      },
      30_000,
      50,
    );
    expect(back).toBe(true);
    await agent.waitFor(/data-plane worker exited; restarting it/, 5_000);
    const ok = await pollWorkers(
      metricsPort,
      "fulcrum_worker_up",
      (m) => m.get(0) === 1 && m.get(1) === 1,
      60_000,
    );
    expect(ok).toBe(true);
    running = false;
    await load;
    const text = await metrics(metricsPort);
    expect([...perWorker(text, "fulcrum_worker_restarts_total").values()].reduce((x, y) => x + y)).toBe(1);
    // Only connections the killed worker had accepted and not answered can fail: at most one per load loop.
    expect(failures).toBeLessThanOrEqual(4);
    expect(served).toBeGreaterThan(servedAtKill + 100);
  }, 90_000);
});
