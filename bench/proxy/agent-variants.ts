/**
 * Variants of the agent side by side against nginx (1 worker), on the per-core workloads
 * (workload-defs.ts), in one run: the agent run by other Node.js binaries (--node), or the
 * agent's code at other git revisions (--rev, run by the harness's Node), beside the working
 * tree's agent run by the harness's Node ("current"). All over the same two nginx backends,
 * one http listener each; targets interleaved, their order rotated each round. Two measures
 * per workload: wrk saturated (req/s and its ratio to nginx in the same round, p99, timeouts)
 * and, for the GET workloads, CPU µs per request at a fixed rate with `hey -q` (steadier than
 * saturated figures on a loaded machine). Issue 17: which Node version, which change, helps.
 *
 *   pnpm --filter @fulcrum/bench proxy:variants [--node NAME=PATH]... [--rev NAME=REV]...
 *        [--only churn-c32,post4k-c64] [--rounds N] [--duration S] [--rate R]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nginxProxyConf } from "./configs";
import { runHey } from "./hey";
import { describeMachine, ensureTools } from "./machine";
import { cpuSeconds, freePort, installExitHandlers, run, runMain, type Started, stop } from "./processes";
import { writeResultsFile } from "./results-file";
import { extractAgentRevision, pidsOf, ready, startAgent, startNginx, startNginxBackends } from "./targets";
import { WORKLOADS, type Workload, type WorkloadId, workloadArgs } from "./workload-defs";
import { runWrk } from "./wrk";

const log = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

interface Target {
  readonly id: string;
  readonly node: string;
  readonly version: string;
  readonly port: number;
  readonly proc: Started;
  pids: number[];
}

interface Sample {
  round: number;
  workload: WorkloadId;
  target: string;
  rps: number;
  p99Ms: number;
  timeouts: number;
  errors: number;
  cpuUsPerRequest: number;
  /** At the fixed rate (GET workloads only). */
  fixedRateCpuUs?: number;
}

const USAGE =
  "usage: pnpm --filter @fulcrum/bench proxy:variants [--node NAME=PATH]... [--rev NAME=REV]... [--only w1,w2] [--rounds N] [--duration S] [--rate R]";

/** hey runs for these workloads at a fixed rate; its own flags for each. */
const FIXED_RATE: Partial<Record<WorkloadId, string[]>> = {
  "keepalive-c64": [],
  "churn-c32": ["-disable-keepalive"],
};

async function main(): Promise<void> {
  const argv = process.argv.slice(2).filter((a) => a !== "--");
  const variants: { id: string; node: string; rev?: string }[] = [{ id: "current", node: process.execPath }];
  let only: string[] = ["churn-c32", "keepalive-c1000", "post4k-c64", "keepalive-c64"];
  let rounds = 2;
  let duration = 5;
  let rate = 2000;
  for (let i = 0; i < argv.length; i += 2) {
    const [a, v] = [argv[i], argv[i + 1]];
    if (v === undefined) throw new Error(USAGE);
    if (a === "--node" || a === "--rev") {
      const eq = v.indexOf("=");
      if (eq < 1) throw new Error(`${a} NAME=VALUE\n${USAGE}`);
      const id = v.slice(0, eq);
      const value = v.slice(eq + 1);
      variants.push(a === "--node" ? { id, node: value } : { id, node: process.execPath, rev: value });
    } else if (a === "--only") only = v.split(",");
    else if (a === "--rounds") rounds = Number(v);
    else if (a === "--duration") duration = Number(v);
    else if (a === "--rate") rate = Number(v);
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  const workloads: Workload[] = WORKLOADS.filter((w) => w.layer === "L7" && only.includes(w.id));
  if (workloads.length === 0) throw new Error(`--only names no L7 workload\n${USAGE}`);
  installExitHandlers();
  const startedAt = new Date().toISOString();
  const missing = ensureTools(["nginx", "wrk", "hey"], log);
  if (missing.length) throw new Error(`missing tools: ${missing.join(", ")}`);
  const dir = mkdtempSync(join(tmpdir(), "fulcrum-agent-variants-"));
  const ports = await Promise.all(Array.from({ length: 3 + variants.length }, () => freePort()));
  const backends = [ports[0]!, ports[1]!];
  const backendProcs = await startNginxBackends(dir, backends);
  const nginxDir = join(dir, "nginx-proxy");
  const nginx = startNginx("nginx-proxy", nginxDir, nginxProxyConf(nginxDir, ports[2]!, backends));
  const targets: Target[] = [
    { id: "nginx", node: "-", version: "nginx", port: ports[2]!, proc: nginx, pids: [] },
  ];
  for (const [i, n] of variants.entries()) {
    let version = (await run(n.node, ["--version"], 10_000)).stdout.trim();
    let bin: string | undefined;
    if (n.rev !== undefined) {
      const r = extractAgentRevision(n.rev, join(dir, `src-${n.id}`));
      bin = r.bin;
      version += ` @${r.commit}`;
    }
    const port = ports[3 + i]!;
    const proc = startAgent(
      `agent-${n.id}`,
      join(dir, `agent-${n.id}`),
      [{ protocol: "http", port }],
      backends,
      bin,
      undefined,
      n.node,
    );
    targets.push({ id: `agent-${n.id}`, node: n.node, version, port, proc, pids: [] });
  }
  for (const t of targets) {
    await ready(t.proc, t.port);
    t.pids = pidsOf(t.proc);
    log(`${t.id} (${t.version}): 127.0.0.1:${t.port}`);
  }
  const samples: Sample[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const w of workloads) {
      const extra = workloadArgs(w, dir);
      const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
      for (const t of order) {
        const url = `http://127.0.0.1:${t.port}/`;
        await runWrk(url, w.connections, 1, extra);
        const cpu0 = cpuSeconds(t.pids);
        const r = await runWrk(url, w.connections, duration, extra);
        const s: Sample = {
          round,
          workload: w.id,
          target: t.id,
          rps: r.rps,
          p99Ms: r.p99Ms,
          timeouts: r.errors.timeout,
          errors: r.errors.connect + r.errors.read + r.errors.write + r.errors.non2xx,
          cpuUsPerRequest: ((cpuSeconds(t.pids) - cpu0) * 1e6) / Math.max(1, r.requests),
        };
        const heyFlags = FIXED_RATE[w.id];
        if (heyFlags !== undefined) {
          const c0 = cpuSeconds(t.pids);
          const h = await runHey(url, rate, duration, heyFlags);
          s.fixedRateCpuUs = ((cpuSeconds(t.pids) - c0) * 1e6) / Math.max(1, h.ok);
        }
        samples.push(s);
        log(
          `round ${round + 1}/${rounds} ${w.id} ${t.id}: ${s.rps.toFixed(0)} req/s p99 ${s.p99Ms.toFixed(1)} ms t${s.timeouts} e${s.errors}, ${s.cpuUsPerRequest.toFixed(0)} µs/req${s.fixedRateCpuUs === undefined ? "" : `, at ${rate}/s ${s.fixedRateCpuUs.toFixed(0)} µs/req`}`,
        );
      }
    }
  }
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length === 0 ? Number.NaN : (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
  };
  const summary = workloads.flatMap((w) => {
    const nginxRps = median(
      samples.filter((s) => s.workload === w.id && s.target === "nginx").map((s) => s.rps),
    );
    return targets.map((t) => {
      const mine = samples.filter((s) => s.workload === w.id && s.target === t.id);
      // Per round, this target ÷ nginx in the same round: the load of that moment cancels out.
      const ratios = mine.map(
        (s) =>
          s.rps /
          (samples.find((n) => n.round === s.round && n.workload === w.id && n.target === "nginx")?.rps ??
            Number.NaN),
      );
      const fixed = mine.flatMap((s) => (s.fixedRateCpuUs === undefined ? [] : [s.fixedRateCpuUs]));
      return {
        workload: w.id,
        target: t.id,
        version: t.version,
        rps: median(mine.map((s) => s.rps)),
        ratioToNginx: t.id === "nginx" ? 1 : median(ratios),
        nginxRps,
        p99Ms: median(mine.map((s) => s.p99Ms)),
        timeouts: mine.reduce((n, s) => n + s.timeouts, 0),
        errors: mine.reduce((n, s) => n + s.errors, 0),
        cpuUsPerRequest: median(mine.map((s) => s.cpuUsPerRequest)),
        fixedRateCpuUs: fixed.length ? median(fixed) : undefined,
      };
    });
  });
  const lines = [
    "| workload | target | req/s | ÷ nginx | p99 ms | timeouts | CPU µs/req (saturated) | CPU µs/req at fixed rate |",
    "| --- | --- | --: | --: | --: | --: | --: | --: |",
    ...summary.map(
      (r) =>
        `| ${r.workload} | ${r.target} (${r.version}) | ${r.rps.toFixed(0)} | ${r.ratioToNginx.toFixed(2)} | ${r.p99Ms.toFixed(1)} | ${r.timeouts} | ${r.cpuUsPerRequest.toFixed(0)} | ${r.fixedRateCpuUs?.toFixed(0) ?? "–"} |`,
    ),
  ];
  process.stdout.write(`\n${lines.join("\n")}\n`);
  const file = writeResultsFile(
    {
      startedAt,
      finishedAt: new Date().toISOString(),
      command: `pnpm --filter @fulcrum/bench proxy:variants ${argv.join(" ")}`,
      machine: describeMachine(),
      methods: {
        load: `wrk -t2 -d${duration}s --latency per workload, 1 s warm-up, ${rounds} interleaved rounds (target order rotated), medians; ratio = median of per-round ratios`,
        fixedRate: `hey -z ${duration}s -c 50 at ${rate} req/s in total (churn: -disable-keepalive), after the wrk run; CPU of the target's process tree ÷ 2xx responses`,
      },
      targets: targets.map((t) => ({ id: t.id, version: t.version })),
      samples,
      summary,
    },
    startedAt,
    "agent-variants-",
  );
  log(`results written to ${file}`);
  for (const p of [...backendProcs, ...targets.map((t) => t.proc)]) await stop(p, 10_000);
  rmSync(dir, { recursive: true, force: true });
}

runMain(main);
