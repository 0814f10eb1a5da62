/**
 * HAProxy engine benchmark: HAProxy supervised by the Fulcrum agent (`--engine haproxy`)
 * against bare HAProxy running the same rendered configuration, both round-robining over
 * the same two nginx backends, in interleaved rounds on one machine. Goal: the supervised
 * one serves ≥ 0.97× the bare one's req/s. Writes bench/results/haproxy-<date>.json.
 * Run with `pnpm --filter @fulcrum/bench haproxy [--quick]`.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderConfig } from "@fulcrum/agent/internals";
import { type Snapshot, snapshotSchema } from "@fulcrum/protocol";
import { describeMachine, ensureTools } from "../proxy/machine";
import { cpuSeconds, freePort, installExitHandlers, runMain, start, stop } from "../proxy/processes";
import { median, ratio } from "../proxy/stats";
import { pidsOf, REPO_ROOT, ready, startNginxBackends } from "../proxy/targets";
import { runWrk, type WrkResult } from "../proxy/wrk";

const log = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const AGENT_BIN = join(REPO_ROOT, "apps/agent/bin/fulcrum-agent.js");
const GOAL = 0.97;

const USAGE = `usage: pnpm --filter @fulcrum/bench haproxy [--quick] [--rounds N] [--duration S] [--warmup S]
  --quick        2 rounds of 3 s runs, 1 s warm-up (default: 5 rounds of 8 s, 2 s warm-up)`;

function parseArgs(argv: readonly string[]) {
  const quick = argv.includes("--quick");
  const o = { quick, rounds: quick ? 2 : 5, duration: quick ? 3 : 8, warmup: quick ? 1 : 2 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--quick" || a === "--") continue;
    const key = { "--rounds": "rounds", "--duration": "duration", "--warmup": "warmup" }[a] as
      | "rounds"
      | "duration"
      | "warmup"
      | undefined;
    const n = Number(argv[i + 1]);
    if (!key || !Number.isFinite(n) || n < 0) throw new Error(`bad argument ${a}\n${USAGE}`);
    o[key] = n;
    i++;
  }
  return o;
}

/** One http listener round-robining over the backends, with the options this engine accepts. */
function snapshot(port: number, backends: readonly number[]): Snapshot {
  return snapshotSchema.parse({
    version: 1,
    hash: "0".repeat(64),
    clusterId: "bench",
    createdAt: new Date().toISOString(),
    listeners: [
      {
        id: "web",
        name: "web",
        protocol: "http",
        bindAddress: "127.0.0.1",
        port,
        routes: [{ id: "all", host: "", pathPrefix: "/", priority: 0, poolId: "pool" }],
      },
    ],
    pools: [
      {
        id: "pool",
        name: "pool",
        policy: "round_robin",
        policyOptions: {},
        healthCheck: {},
        persistence: {},
        outlierDetection: { enabled: false },
        retries: { enabled: true, attempts: 1, budgetPercent: 100 },
        backends: backends.map((p, i) => ({
          id: `b${i + 1}`,
          name: `backend-${i + 1}`,
          address: "127.0.0.1",
          port: p,
          weight: 1,
          state: "enabled",
          backup: false,
        })),
      },
    ],
  });
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  installExitHandlers();
  const startedAt = new Date().toISOString();
  const missing = ensureTools(["nginx", "haproxy", "wrk"], log);
  if (missing.length) throw new Error(`missing tools: ${missing.join(", ")}`);
  const haproxyVersion = spawnSync("haproxy", ["-v"], { encoding: "utf8" }).stdout.split("\n")[0] ?? "";
  const revision = spawnSync("git", ["rev-parse", "--short", "HEAD"], {
    cwd: REPO_ROOT,
    encoding: "utf8",
  }).stdout.trim();
  const dir = mkdtempSync(join(tmpdir(), "fulcrum-bench-haproxy-"));
  log(`work dir ${dir}`);

  const [b1, b2, pBare, pAgent] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const backends = [b1!, b2!];
  const backendProcs = await startNginxBackends(dir, backends);

  // Bare HAProxy: the very config the agent renders, same master-worker mode, no agent.
  const bareDir = join(dir, "bare");
  mkdirSync(bareDir, { recursive: true });
  const bareCfg = join(bareDir, "haproxy.cfg");
  writeFileSync(
    bareCfg,
    renderConfig(snapshot(pBare!, backends), {
      statsSocket: join(bareDir, "stats.sock"),
      serverStateFile: join(bareDir, "server-state"),
      certDir: join(bareDir, "certs"),
    }),
  );
  const bare = start("haproxy-bare", "haproxy", ["-W", "-db", "-f", bareCfg], join(bareDir, "haproxy.log"));

  // The agent supervising HAProxy, from a snapshot file.
  const agentDir = join(dir, "agent");
  mkdirSync(agentDir, { recursive: true });
  const snapFile = join(agentDir, "snapshot.json");
  writeFileSync(snapFile, JSON.stringify(snapshot(pAgent!, backends)));
  const agent = start(
    "fulcrum-agent-haproxy",
    process.execPath,
    [AGENT_BIN, "--config", snapFile, "--engine", "haproxy", "--state-dir", agentDir],
    join(agentDir, "agent.log"),
    { ...process.env, FULCRUM_LOG_LEVEL: "warn" },
  );
  await ready(bare, pBare!);
  await ready(agent, pAgent!);

  const targets = [
    { id: "bare", label: "bare HAProxy (same rendered config)", port: pBare!, proc: bare },
    { id: "agent", label: "HAProxy under the Fulcrum agent", port: pAgent!, proc: agent },
  ] as const;
  const runs: Record<string, WrkResult[]> = { bare: [], agent: [] };
  const cpu: Record<string, number[]> = { bare: [], agent: [] };
  const agentNodeCpu: number[] = [];
  for (let round = 0; round < opts.rounds; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const t of order) {
      const url = `http://127.0.0.1:${t.port}/`;
      if (opts.warmup > 0) await runWrk(url, 64, opts.warmup);
      // The agent's pids: node plus the HAProxy master and workers it spawned.
      const pids = pidsOf(t.proc);
      const c0 = cpuSeconds(pids);
      const n0 = cpuSeconds([t.proc.pid]);
      const w = await runWrk(url, 64, opts.duration);
      cpu[t.id]!.push(((cpuSeconds(pids) - c0) * 1e6) / Math.max(1, w.requests));
      if (t.id === "agent") agentNodeCpu.push(cpuSeconds([t.proc.pid]) - n0);
      runs[t.id]!.push(w);
      const errors = w.errors.connect + w.errors.read + w.errors.write + w.errors.timeout + w.errors.non2xx;
      log(
        `round ${round + 1}/${opts.rounds} ${t.label}: ${w.rps.toFixed(0)} req/s p99 ${w.p99Ms.toFixed(2)} ms errors ${errors}`,
      );
    }
  }

  const rps = (id: string) => median(runs[id]!.map((w) => w.rps));
  const r = ratio(rps("agent"), rps("bare"));
  const perRound = runs.agent!.map((w, i) => ratio(w.rps, runs.bare![i]!.rps).toFixed(3)).join(", ");
  const result = {
    startedAt,
    command: `pnpm --filter @fulcrum/bench haproxy${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(" ")}` : ""}`,
    revision,
    haproxyVersion,
    machine: describeMachine(),
    method: `wrk -t2 -c64 -d${opts.duration}s --latency, ${opts.warmup} s warm-up per run, ${opts.rounds} interleaved rounds (order alternated), median per target; both HAProxys run the same rendered config in master-worker mode`,
    bare: {
      rps: rps("bare"),
      p99Ms: median(runs.bare!.map((w) => w.p99Ms)),
      cpuUsPerRequest: median(cpu.bare!),
    },
    agent: {
      rps: rps("agent"),
      p99Ms: median(runs.agent!.map((w) => w.p99Ms)),
      cpuUsPerRequest: median(cpu.agent!),
      agentNodeCpuSecondsPerRun: median(agentNodeCpu),
    },
    ratio: r,
    perRound,
    goal: `agent ÷ bare req/s ≥ ${GOAL}`,
    met: r >= GOAL,
    runs,
  };
  const out = join(REPO_ROOT, "bench/results", `haproxy-${startedAt.replace(/[:.]/g, "-")}.json`);
  mkdirSync(join(REPO_ROOT, "bench/results"), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(
    [
      "",
      `HAProxy engine benchmark (${haproxyVersion})`,
      `  bare HAProxy:            ${result.bare.rps.toFixed(0)} req/s, p99 ${result.bare.p99Ms.toFixed(2)} ms, ${result.bare.cpuUsPerRequest.toFixed(1)} µs CPU/request`,
      `  under the Fulcrum agent: ${result.agent.rps.toFixed(0)} req/s, p99 ${result.agent.p99Ms.toFixed(2)} ms, ${result.agent.cpuUsPerRequest.toFixed(1)} µs CPU/request (agent node process: ${result.agent.agentNodeCpuSecondsPerRun.toFixed(2)} CPU s per ${opts.duration} s run)`,
      `  ratio agent ÷ bare: ${r.toFixed(3)} (per round ${perRound}); goal ≥ ${GOAL}: ${result.met ? "met" : "NOT met"}`,
      `  results: ${out}`,
      "",
    ].join("\n"),
  );
  await Promise.all([stop(agent, 15_000), stop(bare), ...backendProcs.map((p) => stop(p))]);
  rmSync(dir, { recursive: true, force: true });
}

runMain(main);
