/**
 * Per-core workloads (issue 17): connection churn, 1,000 keep-alive connections,
 * a 4 KiB POST and a ~1.5 KiB request head, plus the keep-alive c64 GET (L7 and
 * L4) whose targets must hold, for the agent, nginx (1 worker) and HAProxy
 * (nbthread 1) over the same two nginx backends, in interleaved rounds.
 * Prints a table and writes bench/results/workloads-<date>.json.
 *
 *   pnpm --filter @fulcrum/bench proxy:workloads [--rounds N] [--duration S] [--warmup S]
 *        [--only w1,w2] [--targets t1,t2] [--agent-rev REV] [--agent-node-args "..."] [--out FILE]
 *
 * --agent-node-args passes flags to the agent's node (e.g. "--cpu-prof --cpu-prof-dir /tmp/p"
 * with --targets agent-http --only churn-c32 to profile one workload).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { haproxyConf, nginxProxyConf } from "./configs";
import { describeMachine, ensureTools } from "./machine";
import { cpuSeconds, freePort, installExitHandlers, runMain, type Started, stop } from "./processes";
import type { TargetId } from "./report";
import { writeResultsFile } from "./results-file";
import {
  pidsOf,
  REPO_ROOT,
  ready,
  startAgent,
  startHaproxy,
  startNginx,
  startNginxBackends,
  useAgentRevision,
} from "./targets";
import { type Layer, WORKLOADS, type Workload, type WorkloadId, workloadArgs } from "./workload-defs";
import { formatWorkloadReport, type RunSample, summarize, workloadGoals } from "./workload-report";
import { runWrk } from "./wrk";

const log = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

interface Options {
  rounds: number;
  duration: number;
  warmup: number;
  only: WorkloadId[] | undefined;
  targets: TargetId[] | undefined;
  agentRev: string | undefined;
  agentNodeArgs: string[];
  out: string | undefined;
}

const USAGE =
  "usage: pnpm --filter @fulcrum/bench proxy:workloads [--rounds N] [--duration S] [--warmup S] [--only w1,w2] [--targets t1,t2] [--agent-rev REV] [--agent-node-args ARGS] [--out FILE]";
const TARGET_IDS: readonly TargetId[] = ["nginx", "haproxy-http", "haproxy-tcp", "agent-http", "agent-tcp"];

function parseOptions(argv: readonly string[]): Options {
  const o: Options = {
    rounds: 3,
    duration: 5,
    warmup: 1,
    only: undefined,
    targets: undefined,
    agentRev: undefined,
    agentNodeArgs: [],
    out: undefined,
  };
  const num = (flag: string, v: string | undefined, min: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`${flag} needs a number ≥ ${min}\n${USAGE}`);
    return n;
  };
  const list = <T extends string>(flag: string, v: string | undefined, known: readonly T[]): T[] => {
    const items = (v ?? "").split(",").filter(Boolean);
    const bad = items.find((i) => !known.includes(i as T));
    if (items.length === 0 || bad !== undefined)
      throw new Error(`${flag}: one or more of ${known.join(", ")}\n${USAGE}`);
    return items as T[];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1];
    if (a === "--rounds") o.rounds = num(a, v, 1);
    else if (a === "--duration") o.duration = num(a, v, 1);
    else if (a === "--warmup") o.warmup = num(a, v, 0);
    else if (a === "--only")
      o.only = list(
        a,
        v,
        WORKLOADS.map((w) => w.id),
      );
    else if (a === "--targets") o.targets = list(a, v, TARGET_IDS);
    else if (a === "--agent-rev") o.agentRev = v;
    else if (a === "--agent-node-args") o.agentNodeArgs = (v ?? "").split(" ").filter(Boolean);
    else if (a === "--out") o.out = v;
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
    i++;
  }
  return o;
}

interface Target {
  readonly id: TargetId;
  readonly label: string;
  readonly layer: Layer;
  readonly port: number;
  readonly proc: Started;
  pids: number[];
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2).filter((a) => a !== "--");
  const opts = parseOptions(argv);
  installExitHandlers();
  const startedAt = new Date().toISOString();
  const notes: string[] = [];
  const missing = ensureTools(["nginx", "haproxy", "wrk"], log);
  if (missing.length) throw new Error(`missing tools: ${missing.join(", ")}`);
  const machine = describeMachine();
  const dir = mkdtempSync(join(tmpdir(), "fulcrum-workloads-"));
  log(`work dir ${dir}`);
  const revision = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" });
  if (opts.agentRev) {
    const commit = useAgentRevision(opts.agentRev, join(dir, "agent-src"));
    notes.push(`agent code: commit ${commit} (--agent-rev ${opts.agentRev})`);
  } else {
    notes.push(`agent code: working tree at commit ${revision.stdout.trim()}`);
  }

  const [b1, b2, pNginx, pHaHttp, pHaTcp, pAgentHttp, pAgentTcp] = await Promise.all(
    Array.from({ length: 7 }, () => freePort()),
  );
  const backends = [b1!, b2!];
  const backendProcs = await startNginxBackends(dir, backends);

  const wanted = (id: TargetId) => opts.targets === undefined || opts.targets.includes(id);
  const targets: Target[] = [];
  const add = (id: TargetId, label: string, layer: Layer, port: number, make: () => Started) => {
    if (wanted(id)) targets.push({ id, label, layer, port, proc: make(), pids: [] });
  };
  add("nginx", "nginx proxy, 1 worker", "L7", pNginx!, () =>
    startNginx(
      "nginx-proxy",
      join(dir, "nginx-proxy"),
      nginxProxyConf(join(dir, "nginx-proxy"), pNginx!, backends),
    ),
  );
  add("haproxy-http", "HAProxy http, nbthread 1", "L7", pHaHttp!, () =>
    startHaproxy("haproxy-http", join(dir, "haproxy-http"), haproxyConf("http", pHaHttp!, backends)),
  );
  add("haproxy-tcp", "HAProxy tcp, nbthread 1", "L4", pHaTcp!, () =>
    startHaproxy("haproxy-tcp", join(dir, "haproxy-tcp"), haproxyConf("tcp", pHaTcp!, backends)),
  );
  if (wanted("agent-http") || wanted("agent-tcp")) {
    const agent = startAgent(
      "fulcrum-agent",
      join(dir, "agent"),
      [
        { protocol: "http", port: pAgentHttp! },
        { protocol: "tcp", port: pAgentTcp! },
      ],
      backends,
      undefined,
      opts.agentNodeArgs,
    );
    if (wanted("agent-http"))
      targets.push({
        id: "agent-http",
        label: "Fulcrum agent, http",
        layer: "L7",
        port: pAgentHttp!,
        proc: agent,
        pids: [],
      });
    if (wanted("agent-tcp"))
      targets.push({
        id: "agent-tcp",
        label: "Fulcrum agent, tcp",
        layer: "L4",
        port: pAgentTcp!,
        proc: agent,
        pids: [],
      });
  }
  for (const t of targets) {
    await ready(t.proc, t.port);
    t.pids = pidsOf(t.proc);
    log(`${t.label}: 127.0.0.1:${t.port}, pids ${t.pids.join(",")}`);
  }

  const workloads: Workload[] = WORKLOADS.filter((w) => opts.only === undefined || opts.only.includes(w.id));
  const argsOf = new Map(workloads.map((w) => [w.id, workloadArgs(w, dir)]));
  const samples: RunSample[] = [];
  // Interleaved: every workload on every target once per round, the target order rotated each round.
  for (let round = 0; round < opts.rounds; round++) {
    for (const w of workloads) {
      const ts = targets.filter((t) => t.layer === w.layer);
      const order = ts.map((_, i) => ts[(i + round) % ts.length]!);
      for (const t of order) {
        const url = `http://127.0.0.1:${t.port}/`;
        const extra = argsOf.get(w.id)!;
        if (opts.warmup > 0) await runWrk(url, w.connections, opts.warmup, extra);
        const cpu0 = cpuSeconds(t.pids);
        const r = await runWrk(url, w.connections, opts.duration, extra);
        const cpu = cpuSeconds(t.pids) - cpu0;
        const cpuUsPerRequest = (cpu * 1e6) / Math.max(1, r.requests);
        samples.push({ round, workload: w.id, target: t.id, wrk: r, cpuUsPerRequest });
        const e = r.errors;
        log(
          `round ${round + 1}/${opts.rounds} ${w.id} ${t.id}: ${r.rps.toFixed(0)} req/s p99 ${r.p99Ms.toFixed(1)} ms, ${cpuUsPerRequest.toFixed(1)} µs CPU/req, errors c${e.connect} r${e.read} w${e.write} t${e.timeout} non2xx ${e.non2xx}`,
        );
      }
    }
  }

  const summary = summarize(samples);
  const goals = workloadGoals(summary, samples);
  const report = {
    startedAt,
    finishedAt: new Date().toISOString(),
    command: `pnpm --filter @fulcrum/bench proxy:workloads${argv.length ? ` ${argv.join(" ")}` : ""}`,
    options: opts,
    machine,
    workloads: workloads.map((w) => ({
      id: w.id,
      label: w.label,
      layer: w.layer,
      connections: w.connections,
    })),
    targets: targets.map((t) => ({ id: t.id, label: t.label, layer: t.layer })),
    methods: {
      load: `wrk -t2 -d${opts.duration}s --latency per workload (connections, headers and Lua script in workloads), ${opts.warmup} s of the same load before each measured run, ${opts.rounds} interleaved rounds (target order rotated), medians`,
      cpu: "utime+stime of the proxy's process tree (/proc/PID/stat) over the measured run ÷ requests: saturated, not at a fixed rate",
      backends: "two nginx, 1 worker each, return 200 with a 100-byte body, keep-alive",
    },
    samples,
    summary,
    goals,
    notes,
  };
  process.stdout.write(`\n${formatWorkloadReport(report)}\n`);
  const outFile = writeResultsFile(report, startedAt, "workloads-", opts.out);
  log(`results written to ${outFile}`);
  for (const p of [...backendProcs, ...new Set(targets.map((t) => t.proc))]) await stop(p, 10_000);
  rmSync(dir, { recursive: true, force: true });
}

runMain(main);
