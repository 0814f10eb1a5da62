import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Snapshot } from "@fulcrum/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, spawnAgent } from "./helpers/agent-process";
import { type DelayBackend, startDelayBackend, until } from "./helpers/backends";
import { type HoldBackend, startHoldBackend } from "./helpers/hold-backend";
import { freePort, get, type Reply } from "./helpers/net";
import { backend, httpListener, makeSnapshot, type PoolInput } from "./helpers/snapshot";
import {
  acceptedSince,
  allWorkersServedSince,
  burst,
  metrics,
  perWorker,
  pollWorkers,
  workerBack,
  workerPids,
} from "./helpers/workers";

/**
 * Policies that depend on shared state, across `--workers 2` (real control
 * process, two real workers, real backends): each test checks the bound
 * docs/architecture.md ("Policies across workers") states for its row, and
 * that both workers took part, read from the agent's own per-worker counters.
 */
describe("--workers 2: policies across workers", () => {
  let dir: string;
  let file: string;
  let port: number;
  let metricsPort: number;
  let agent: AgentProcess;
  let version = 1;
  let delay: DelayBackend[] = [];
  let hold: HoldBackend[] = [];

  const reload = async (
    backends: { name: string; port: number }[],
    policy: Snapshot["pools"][number]["policy"],
    pool: Partial<PoolInput> = {},
  ) => {
    const s = makeSnapshot(
      version++,
      [httpListener(port)],
      backends.map((x) => backend(x.name, x.port)),
      policy,
      [],
      pool,
    );
    await writeFile(file, JSON.stringify(s));
    if (!agent) return;
    const mark = agent.stderr().length;
    agent.child.kill("SIGHUP");
    const want = new RegExp(`applied snapshot version=${s.version} `);
    const ok = await until(() => want.test(agent.stderr().slice(mark)), 20_000, 20);
    if (!ok) throw new Error(`no ${want} after reload; stderr:\n${agent.stderr().slice(mark)}`);
  };
  const connections = async () => perWorker(await metrics(metricsPort), "fulcrum_worker_connections_total");

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fulcrum-workers-policies-"));
    file = join(dir, "snapshot.json");
    delay = await Promise.all(["a", "b", "c", "d"].map((n) => startDelayBackend(n)));
    hold = await Promise.all(["h1", "h2", "h3", "h4"].map((n) => startHoldBackend(n)));
    port = await freePort();
    metricsPort = await freePort();
    await reload(delay, "round_robin");
    agent = spawnAgent(["--config", file, "--workers", "2", "--metrics-port", String(metricsPort)]);
    await agent.waitFor(/applied snapshot version=1/, 60_000);
  }, 90_000);

  afterAll(async () => {
    for (const h of hold) h.release();
    await agent?.stop();
    await Promise.all([...delay, ...hold].map((x) => x.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it("pins a source-IP client to one backend node-wide, and replays the pins to a restarted worker", async () => {
    // Random picks: two workers pinning on their own would disagree for 3 clients in 4.
    await reload(delay, "random", { persistence: { type: "source_ip", ttlSeconds: 60 } });
    const clients = Array.from({ length: 6 }, (_, i) => `127.0.0.${11 + i}`);
    const pinned = new Map<string, string>();
    const before = await connections();
    let strays = 0;
    for (const ip of clients) {
      const first = await get(port, "/", { headers: { connection: "close" }, localAddress: ip });
      expect(first.status).toBe(200);
      pinned.set(ip, first.body);
      // A new connection each: the kernel gives them to both workers.
      const bodies = await burst(port, 30, 3, { localAddress: ip });
      const off = bodies.filter((x) => x !== first.body).length;
      // Stated bound: only a connection that starts on another worker before the first pin's IPC
      // round trip may pick on its own (at most one per other worker); none here is started that early.
      expect(off).toBeLessThanOrEqual(1);
      strays += off;
    }
    console.log("source-IP strays after the first pin, 6 clients x 30 connections:", strays);
    expect(await allWorkersServedSince(metricsPort, before)).toBe(true);
    // The clients did not all land on one backend by chance (random picks of 4).
    expect(new Set(pinned.values()).size).toBeGreaterThan(1);

    // A restarted worker starts with the node's table, before it accepts anything.
    const [, victim] = workerPids(agent.child.pid!);
    process.kill(victim!, "SIGKILL");
    expect(await workerBack(metricsPort, 1, 1)).toBe(true);
    const after = await connections();
    for (const ip of clients) {
      const bodies = await burst(port, 20, 2, { localAddress: ip });
      expect(new Set(bodies)).toEqual(new Set([pinned.get(ip)]));
    }
    expect(await allWorkersServedSince(metricsPort, after)).toBe(true);
  }, 120_000);

  it("keeps least-connections within N of even node-wide (each worker within 1 over its own)", async () => {
    await reload(hold, "least_connections");
    const replies: Promise<Reply | Error>[] = [];
    let answered = 0;
    const held = () => hold.reduce((n, h) => n + h.held, 0);
    // One connection at a time, each held before the next: a burst of simultaneous connects is
    // accepted mostly by the worker that wakes first (libuv accepts until the backlog is empty).
    const open = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const target = held() + 1;
        replies.push(
          get(port, "/", { headers: { connection: "close" } })
            .catch((e: Error) => e)
            .finally(() => answered++),
        );
        if (!(await until(() => held() >= target, 10_000, 2))) throw new Error(`request ${i} never held`);
      }
    };
    const [h1, h2, h3, h4] = hold as [HoldBackend, HoldBackend, HoldBackend, HoldBackend];
    try {
      // Phase 1: 16 held, then h2's answered: h2 is empty, the others hold about 4 each.
      await open(16);
      const released = h2.held;
      h2.release();
      expect(await until(() => answered === released, 15_000)).toBe(true);
      // Phase 2: 60 more. Least connections fills h2 first; round robin would leave it about 4 short.
      const before = await connections();
      await open(60);
      const counts = hold.map((h) => h.held);
      let shares: number[] = [];
      await pollWorkers(metricsPort, "fulcrum_worker_connections_total", (m) => {
        shares = acceptedSince(before, m);
        return shares.reduce((x, y) => x + y, 0) >= 60;
      });
      console.log(
        "held per backend (least connections, 2 workers):",
        counts,
        "phase-2 accepts per worker:",
        shares,
      );
      // The bound's premise: a worker refills its own gap on h2 (at most `released`) with its first
      // picks, so each worker must have taken at least that many (and both took part).
      for (const n of shares) expect(n).toBeGreaterThanOrEqual(Math.max(1, released));
      // Each worker keeps its own in-flight counts within 1 of each other; node-wide: within N = 2.
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(2);
    } finally {
      for (const h of [h1, h2, h3, h4]) h.release();
    }
    const results = await Promise.all(replies);
    expect(results.filter((r) => r instanceof Error || r.status !== 200)).toEqual([]);
  }, 60_000);
});
