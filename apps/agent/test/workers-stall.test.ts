import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, spawnAgent } from "./helpers/agent-process";
import { type DelayBackend, startDelayBackend, until } from "./helpers/backends";
import { freePort, get } from "./helpers/net";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";
import { metrics, perWorker, workerBack, workerPids } from "./helpers/workers";

/**
 * A worker whose event loop stops turning (`kill -STOP` here: a stopped
 * process sends no heartbeat, exactly as one stuck in a busy loop) is found by
 * the control process's watchdog, killed and restarted, while the other
 * worker keeps serving. A short FULCRUM_WORKER_STALL_MS keeps the test quick.
 */
const STALL_MS = 1500;

describe("--workers 2: a stuck worker", () => {
  let dir: string;
  let port: number;
  let metricsPort: number;
  let a: DelayBackend;
  let agent: AgentProcess;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fulcrum-workers-stall-"));
    const file = join(dir, "snapshot.json");
    a = await startDelayBackend("a");
    port = await freePort();
    metricsPort = await freePort();
    await writeFile(file, JSON.stringify(makeSnapshot(1, [httpListener(port)], [backend("a", a.port)])));
    agent = spawnAgent(["--config", file, "--workers", "2", "--metrics-port", String(metricsPort)], {
      FULCRUM_WORKER_STALL_MS: String(STALL_MS),
    });
    await agent.waitFor(/applied snapshot version=1/, 60_000);
  }, 90_000);

  afterAll(async () => {
    await agent?.stop();
    await a?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("kills and restarts a worker whose heartbeat stops, while the other keeps serving", async () => {
    const text = await metrics(metricsPort);
    expect([...perWorker(text, "fulcrum_worker_stalls_total").values()]).toEqual([0, 0]);
    // Every worker reports how late its event loop runs (here: idle, far below the stall limit).
    const delays = perWorker(text, "fulcrum_worker_event_loop_delay_seconds");
    expect(delays.size).toBe(2);
    for (const d of delays.values()) expect(d).toBeLessThan(STALL_MS / 1000);

    let served = 0;
    let failures = 0;
    let running = true;
    const loops = 4;
    const load = Promise.all(
      Array.from({ length: loops }, async () => {
        while (running) {
          const r = await get(port, "/", { headers: { connection: "close" } }).catch(() => undefined);
          if (r?.status === 200) served++;
          else failures++;
        }
      }),
    );
    try {
      await until(() => served > 50, 10_000);
      const [, victim] = workerPids(agent.child.pid!);
      process.kill(victim!, "SIGSTOP");
      const servedAtStop = served;
      // The other worker serves on while the stopped one is silent (and before the watchdog fires).
      expect(await until(() => served > servedAtStop + 50, 10_000)).toBe(true);
      await agent.waitFor(/data-plane worker is stuck \(no heartbeat\); killing it/, STALL_MS * 4);
      const stalls = perWorker(await metrics(metricsPort), "fulcrum_worker_stalls_total");
      const index = [...stalls.entries()].find(([, n]) => n === 1)?.[0];
      expect(index).toBeDefined();
      expect(await workerBack(metricsPort, index!, 1)).toBe(true);
      expect(workerPids(agent.child.pid!)).not.toContain(victim);
      const servedBack = served;
      expect(await until(() => served > servedBack + 50, 10_000)).toBe(true);
    } finally {
      running = false;
      await load;
    }
    // Only requests the stopped worker had accepted can fail (when it is killed): one per load loop.
    expect(failures).toBeLessThanOrEqual(loops);
    const after = await metrics(metricsPort);
    expect([...perWorker(after, "fulcrum_worker_stalls_total").values()].reduce((x, y) => x + y)).toBe(1);
  }, 60_000);
});
