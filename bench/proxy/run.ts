/**
 * Proxy benchmark: the Fulcrum agent's builtin engine against nginx (1 worker) and
 * HAProxy (nbthread 1), all round-robining over the same two nginx backends, in
 * interleaved rounds on one machine. Prints a table and writes bench/results/<date>.json.
 * Run with `pnpm --filter @fulcrum/bench proxy [--quick]` (see options.ts).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { haproxyConf, nginxProxyConf } from "./configs";
import { runHey } from "./hey";
import { measureIdleConnections } from "./idle-measure";
import { describeMachine, ensureTools } from "./machine";
import { parseOptions } from "./options";
import {
  cpuSeconds,
  fdLimits,
  freePort,
  installExitHandlers,
  logTail,
  runMain,
  type Started,
  stop,
} from "./processes";
import {
  type FixedRate,
  formatReport,
  type Goal,
  type IdleReport,
  type Results,
  type Summary,
  type TargetId,
  type TargetResult,
} from "./report";
import { writeResultsFile } from "./results-file";
import { median, ratio } from "./stats";
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
import { runWrk } from "./wrk";

const log = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Target {
  readonly id: TargetId;
  readonly label: string;
  readonly layer: "L7" | "L4";
  readonly port: number;
  readonly proc: Started;
  pids: number[];
  readonly c256: boolean;
}

function commandLine(argv: string[]): string {
  const args = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(" ");
  return process.env.npm_lifecycle_event === "proxy"
    ? `pnpm --filter @fulcrum/bench proxy${args ? ` ${args}` : ""}`
    : `bench/proxy/run.sh${args ? ` ${args}` : ""}`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2).filter((a) => a !== "--");
  const opts = parseOptions(argv);
  installExitHandlers();
  const startedAt = new Date().toISOString();
  const notes: string[] = [];

  const missing = ensureTools(["nginx", "haproxy", "wrk", "hey"], log);
  const fatal = missing.filter((t) => t !== "hey");
  if (fatal.length) throw new Error(`missing tools: ${fatal.join(", ")}`);
  const haveHey = !missing.includes("hey");
  const machine = describeMachine();
  const git = (args: string[]) => spawnSync("git", args, { cwd: REPO_ROOT, encoding: "utf8" }).stdout.trim();
  const revision = git(["rev-parse", "--short", "HEAD"]);
  const dirty = git(["status", "--porcelain", "--", "apps/agent", "packages"])
    .split("\n")
    .filter(Boolean).length;
  const dir = mkdtempSync(join(tmpdir(), "fulcrum-bench-"));
  log(`work dir ${dir}`);
  if (opts.agentRev) {
    const commit = useAgentRevision(opts.agentRev, join(dir, "agent-src"));
    notes.push(`agent code: commit ${commit} (--agent-rev ${opts.agentRev}, extracted with git archive)`);
  } else {
    notes.push(
      `agent code: working tree at commit ${revision}${dirty ? ` plus ${dirty} uncommitted changed files under apps/agent and packages/` : ""}`,
    );
  }

  const port = () => freePort();
  const [b1, b2, pNginx, pHaHttp, pHaTcp, pAgentHttp, pAgentTcp, pIdle] = await Promise.all(
    Array.from({ length: 8 }, port),
  );
  const backends = [b1!, b2!];

  log(`backends: nginx on ${backends.join(", ")}`);
  const backendProcs = await startNginxBackends(dir, backends);

  const nginx = startNginx(
    "nginx-proxy",
    join(dir, "nginx-proxy"),
    nginxProxyConf(join(dir, "nginx-proxy"), pNginx!, backends),
  );
  const haHttp = startHaproxy(
    "haproxy-http",
    join(dir, "haproxy-http"),
    haproxyConf("http", pHaHttp!, backends),
  );
  const haTcp = startHaproxy("haproxy-tcp", join(dir, "haproxy-tcp"), haproxyConf("tcp", pHaTcp!, backends));
  const agent = startAgent(
    "fulcrum-agent",
    join(dir, "agent"),
    [
      { protocol: "http", port: pAgentHttp! },
      { protocol: "tcp", port: pAgentTcp! },
    ],
    backends,
  );
  const targets: Target[] = [
    {
      id: "nginx",
      label: "nginx proxy, 1 worker",
      layer: "L7",
      port: pNginx!,
      proc: nginx,
      pids: [],
      c256: true,
    },
    {
      id: "haproxy-http",
      label: "HAProxy http, nbthread 1",
      layer: "L7",
      port: pHaHttp!,
      proc: haHttp,
      pids: [],
      c256: false,
    },
    {
      id: "haproxy-tcp",
      label: "HAProxy tcp, nbthread 1",
      layer: "L4",
      port: pHaTcp!,
      proc: haTcp,
      pids: [],
      c256: false,
    },
    {
      id: "agent-http",
      label: "Fulcrum agent, http listener",
      layer: "L7",
      port: pAgentHttp!,
      proc: agent,
      pids: [],
      c256: true,
    },
    {
      id: "agent-tcp",
      label: "Fulcrum agent, tcp listener",
      layer: "L4",
      port: pAgentTcp!,
      proc: agent,
      pids: [],
      c256: false,
    },
  ];
  for (const t of targets) {
    await ready(t.proc, t.port);
    t.pids = pidsOf(t.proc);
    log(`${t.label}: 127.0.0.1:${t.port}, pids ${t.pids.join(",")}`);
  }

  const results = new Map<TargetId, TargetResult>(
    targets.map((t) => [
      t.id,
      { id: t.id, label: t.label, layer: t.layer, c64: [], c256: [], cpuUsPerRequestSaturated: [] },
    ]),
  );

  // Interleaved rounds: every target once per round, the order rotated each round.
  for (let round = 0; round < opts.rounds; round++) {
    const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
    for (const t of order) {
      const url = `http://127.0.0.1:${t.port}/`;
      const r = results.get(t.id)!;
      if (opts.warmup > 0) await runWrk(url, 64, opts.warmup);
      const cpu0 = cpuSeconds(t.pids);
      const w = await runWrk(url, 64, opts.duration);
      const cpu = cpuSeconds(t.pids) - cpu0;
      r.c64.push(w);
      r.cpuUsPerRequestSaturated.push((cpu * 1e6) / Math.max(1, w.requests));
      let line = `round ${round + 1}/${opts.rounds} ${t.label}: c64 ${w.rps.toFixed(0)} req/s p99 ${w.p99Ms.toFixed(1)} ms`;
      if (t.c256) {
        const w256 = await runWrk(url, 256, opts.duration);
        r.c256.push(w256);
        line += `; c256 ${w256.rps.toFixed(0)} req/s p99 ${w256.p99Ms.toFixed(1)} ms timeouts ${w256.errors.timeout}`;
      }
      log(line);
    }
  }

  // CPU per request at a fixed rate (hey -q), or over a saturating wrk run when hey is missing.
  for (const t of targets) {
    const url = `http://127.0.0.1:${t.port}/`;
    const r = results.get(t.id)!;
    let fixed: FixedRate;
    if (haveHey) {
      await runHey(url, opts.rate, 1);
      const cpu0 = cpuSeconds(t.pids);
      const h = await runHey(url, opts.rate, opts.rateDuration);
      const cpu = cpuSeconds(t.pids) - cpu0;
      fixed = {
        method: "hey-fixed-rate",
        requestedRate: opts.rate,
        achievedRate: h.ok / h.seconds,
        requests: h.ok,
        cpuSeconds: cpu,
        cpuUsPerRequest: (cpu * 1e6) / Math.max(1, h.ok),
        hey: h,
      };
    } else {
      const cpu0 = cpuSeconds(t.pids);
      const w = await runWrk(url, 64, opts.rateDuration);
      const cpu = cpuSeconds(t.pids) - cpu0;
      fixed = {
        method: "wrk-saturated",
        requestedRate: opts.rate,
        achievedRate: w.rps,
        requests: w.requests,
        cpuSeconds: cpu,
        cpuUsPerRequest: (cpu * 1e6) / Math.max(1, w.requests),
      };
    }
    r.fixedRate = fixed;
    log(
      `${t.label}: ${fixed.cpuUsPerRequest.toFixed(1)} µs CPU/request at ${fixed.achievedRate.toFixed(0)} req/s (${fixed.method})`,
    );
  }
  if (!haveHey)
    notes.push(
      "hey is not installed: CPU per request was measured over a saturating wrk run, not at a fixed rate",
    );

  // Idle keep-alive connections, on a fresh agent with one http listener.
  let idle: IdleReport | null = null;
  if (opts.idleConnections > 0) {
    await stopLoadTargets();
    try {
      idle = await measureIdle();
    } catch (e) {
      notes.push(`the idle-connection test failed: ${e instanceof Error ? e.message : String(e)}`);
      log(`idle-connection test failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  async function stopLoadTargets(): Promise<void> {
    await Promise.all([stop(nginx), stop(haHttp), stop(haTcp), stop(agent)]);
  }
  async function measureIdle(): Promise<IdleReport> {
    {
      // The agent needs one descriptor per connection: a hard open-file limit below the
      // target (no CAP_SYS_RESOURCE to raise it) caps what one agent process can hold.
      const { soft } = fdLimits();
      const capacity = Math.max(0, Math.floor(soft) - 1000);
      const hold = Math.min(opts.idleConnections, capacity);
      if (hold < opts.idleConnections) {
        notes.push(
          `the open-file limit here is ${soft} (hard limit, and raising it needs CAP_SYS_RESOURCE), so one agent process can hold at most ~${capacity} connections: ${hold} were opened instead of ${opts.idleConnections}, and the memory at ${opts.idleConnections} is extrapolated from the measured bytes per connection`,
        );
      }
      const idleAgent = startAgent(
        "fulcrum-agent-idle",
        join(dir, "agent-idle"),
        [{ protocol: "http", port: pIdle! }],
        backends,
      );
      await ready(idleAgent, pIdle!).catch((e) => {
        throw new Error(`${e instanceof Error ? e.message : String(e)}\n${logTail(idleAgent, 12)}`);
      });
      await sleep(1000);
      try {
        return await measureIdleConnections({
          port: pIdle!,
          agentPid: idleAgent.pid,
          hold,
          target: opts.idleConnections,
          perProcess: Math.min(15_000, capacity),
          answerTimeoutMs: 10_000,
          notes,
          log,
        });
      } finally {
        await stop(idleAgent);
      }
    }
  }

  // Summary, goals, report.
  const summary: Record<string, Summary> = {};
  const rpsOf = (id: TargetId) => median(results.get(id)!.c64.map((w) => w.rps));
  for (const r of results.values()) {
    const rps = rpsOf(r.id);
    summary[r.id] = {
      rps,
      p99Ms: median(r.c64.map((w) => w.p99Ms)),
      p99c256Ms: median(r.c256.map((w) => w.p99Ms)),
      c256Timeouts: r.c256.reduce((n, w) => n + w.errors.timeout, 0),
      vsNginx: ratio(rps, rpsOf("nginx")),
      vsHaproxyTcp: ratio(rps, rpsOf("haproxy-tcp")),
      cpuUsPerRequestFixed: r.fixedRate?.cpuUsPerRequest ?? Number.NaN,
      cpuUsPerRequestSaturated: median(r.cpuUsPerRequestSaturated),
    };
  }
  const s = (id: TargetId) => summary[id]!;
  const perRound = (
    a: TargetId,
    b: TargetId,
    pick: (w: import("./wrk").WrkResult) => number,
    list: "c64" | "c256",
  ) =>
    results
      .get(a)!
      [list].map((w, i) => ratio(pick(w), pick(results.get(b)![list][i]!)).toFixed(2))
      .join(", ");
  const l7 = s("agent-http").vsNginx;
  const p99 = ratio(s("agent-http").p99c256Ms, s("nginx").p99c256Ms);
  const l4 = ratio(s("agent-tcp").rps, s("haproxy-tcp").rps);
  const cpuLabel = haveHey ? `at a fixed ${opts.rate} req/s` : "over a saturating wrk run";
  const goals: Goal[] = [
    {
      name: "L7 req/s at c64, agent ÷ nginx (1 worker)",
      target: "≥ 0.80",
      measured: `${l7.toFixed(2)} (per round ${perRound("agent-http", "nginx", (w) => w.rps, "c64")})`,
      met: l7 >= 0.8,
    },
    {
      name: "L7 p99 at c256, agent ÷ nginx",
      target: "≤ 2.00",
      measured: `${p99.toFixed(2)} (${s("agent-http").p99c256Ms.toFixed(1)} ms vs ${s("nginx").p99c256Ms.toFixed(1)} ms; agent timeouts ${s("agent-http").c256Timeouts})`,
      met: p99 <= 2 && s("agent-http").c256Timeouts === 0,
    },
    {
      name: "L4 req/s at c64, agent tcp ÷ HAProxy tcp (nbthread 1)",
      target: "≥ 0.85",
      measured: `${l4.toFixed(2)} (per round ${perRound("agent-tcp", "haproxy-tcp", (w) => w.rps, "c64")})`,
      met: l4 >= 0.85,
    },
    {
      name: `CPU µs/request ${cpuLabel}, agent http (nginx)`,
      target: "reported",
      measured: `${s("agent-http").cpuUsPerRequestFixed.toFixed(0)} µs (nginx ${s("nginx").cpuUsPerRequestFixed.toFixed(0)} µs, ${ratio(s("agent-http").cpuUsPerRequestFixed, s("nginx").cpuUsPerRequestFixed).toFixed(2)}×)`,
      met: null,
    },
    {
      name: `CPU µs/request ${cpuLabel}, agent tcp (HAProxy tcp)`,
      target: "reported",
      measured: `${s("agent-tcp").cpuUsPerRequestFixed.toFixed(0)} µs (HAProxy tcp ${s("haproxy-tcp").cpuUsPerRequestFixed.toFixed(0)} µs, ${ratio(s("agent-tcp").cpuUsPerRequestFixed, s("haproxy-tcp").cpuUsPerRequestFixed).toFixed(2)}×)`,
      met: null,
    },
  ];
  if (idle) {
    goals.push({
      name: `${idle.target.toLocaleString("en-US")} idle keep-alive connections on one agent`,
      target: "held, memory reported",
      measured: `${idle.heldAtMeasure.toLocaleString("en-US")} held, RSS ${(idle.rssBeforeKiB / 1024).toFixed(0)} → ${(idle.rssAfterKiB / 1024).toFixed(0)} MiB${idle.projectedRssAtTargetKiB !== null ? ` (≈${(idle.projectedRssAtTargetKiB / 1024).toFixed(0)} MiB projected at ${idle.target.toLocaleString("en-US")})` : ""}`,
      met: idle.heldAtMeasure >= idle.target && idle.stillAnswers,
    });
  }

  const methods: Record<string, string> = {
    throughput: `wrk -t2 -c64 -d${opts.duration}s --latency (p99 at c256: wrk -t2 -c256), ${opts.warmup} s wrk warm-up at c64 before each target's runs, ${opts.rounds} interleaved rounds (order rotated), median per target`,
    "CPU per request": haveHey
      ? `hey -z ${opts.rateDuration}s -c 50 -q ${opts.rate / 50} (fixed ${opts.rate} req/s in total) after a 1 s warm-up; utime+stime deltas of the proxy's process tree (/proc/PID/stat) divided by 2xx responses. "saturated" = same over the c64 wrk runs`
      : "utime+stime deltas of the proxy's process tree over a saturating wrk run divided by requests",
    "idle connections":
      "fresh agent, one http listener; each connection sends one GET, reads the response and stays open (keep-alive); RSS from /proc/PID/status VmRSS",
    backends: "two nginx, 1 worker each, return 200 with a 100-byte body, keep-alive",
  };
  const report: Results = {
    startedAt,
    finishedAt: new Date().toISOString(),
    command: commandLine(argv),
    options: opts,
    machine,
    methods,
    targets: [...results.values()],
    summary,
    goals,
    idle,
    notes,
  };
  process.stdout.write(`\n${formatReport(report)}\n`);

  const outFile = writeResultsFile(report, startedAt, "", opts.out);
  log(`results written to ${outFile}`);

  for (const p of [...backendProcs, nginx, haHttp, haTcp, agent]) await stop(p);
  rmSync(dir, { recursive: true, force: true });
}

runMain(main, "(configs and logs stay in the work dir printed above)");
