/**
 * Worker scaling on this machine (issue 17, "Speed with workers"): the agent with
 * --workers 1 and 2, nginx with 1 and 2 workers, HAProxy with nbthread 1 and 2, all
 * round-robining over the same two nginx backends; keep-alive GET at c64 with wrk in
 * interleaved rounds. Prints req/s, p99 and CPU per request (medians), and each
 * proxy's scaling from 1 to 2. Run: PROXY_BENCH=workers bench/proxy/run.sh [ROUNDS] [SECONDS]
 * (defaults 3 rounds of 8 s).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { agentSnapshot, haproxyConf, nginxProxyConf } from "./configs";
import { cpuSeconds, freePort, installExitHandlers, runMain, type Started, start, stop } from "./processes";
import { median } from "./stats";
import { pidsOf, REPO_ROOT, ready, startHaproxy, startNginx, startNginxBackends } from "./targets";

/** The agent from this checkout serving one http listener, with --workers N. */
function startAgentWorkers(
  name: string,
  dir: string,
  port: number,
  backends: number[],
  workers: number,
): Started {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "snapshot.json");
  writeFileSync(file, JSON.stringify(agentSnapshot([{ protocol: "http", port }], backends)));
  const bin = join(REPO_ROOT, "apps/agent/bin/fulcrum-agent.js");
  return start(
    name,
    process.execPath,
    [bin, "--config", file, "--workers", String(workers)],
    join(dir, "agent.log"),
    {
      ...process.env,
      FULCRUM_LOG_LEVEL: "warn",
    },
  );
}

import { runWrk } from "./wrk";

const log = (s: string) => process.stderr.write(`[workers ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

interface Target {
  label: string;
  kind: "agent" | "nginx" | "haproxy";
  workers: number;
  port: number;
  proc: Started;
  pids: number[];
  rps: number[];
  p99: number[];
  cpuUs: number[];
  errors: number;
}

async function main(): Promise<void> {
  const [rounds = 3, seconds = 8] = process.argv
    .slice(2)
    .filter((a) => a !== "--")
    .map(Number);
  installExitHandlers();
  const dir = mkdtempSync(join(tmpdir(), "fulcrum-workers-bench-"));
  const ports = await Promise.all(Array.from({ length: 8 }, () => freePort()));
  const backends = [ports[0]!, ports[1]!];
  const backendProcs = await startNginxBackends(dir, backends);
  const targets: Target[] = [];
  const add = (label: string, kind: Target["kind"], workers: number, port: number, proc: Started) =>
    targets.push({ label, kind, workers, port, proc, pids: [], rps: [], p99: [], cpuUs: [], errors: 0 });
  for (const [i, w] of [1, 2].entries()) {
    const pN = ports[2 + i * 3]!;
    const pH = ports[3 + i * 3]!;
    const pA = ports[4 + i * 3]!;
    add(
      `nginx, ${w} worker(s)`,
      "nginx",
      w,
      pN,
      startNginx(
        `nginx-${w}`,
        join(dir, `n${w}`),
        nginxProxyConf(join(dir, `n${w}`), pN, backends).replace(
          "worker_processes 1;",
          `worker_processes ${w};`,
        ),
      ),
    );
    add(
      `HAProxy http, nbthread ${w}`,
      "haproxy",
      w,
      pH,
      startHaproxy(
        `haproxy-${w}`,
        join(dir, `h${w}`),
        haproxyConf("http", pH, backends).replace("nbthread 1", `nbthread ${w}`),
      ),
    );
    add(
      `agent, --workers ${w}`,
      "agent",
      w,
      pA,
      startAgentWorkers(`agent-${w}`, join(dir, `a${w}`), pA, backends, w),
    );
  }
  for (const t of targets) {
    await ready(t.proc, t.port);
    t.pids = pidsOf(t.proc);
    log(`${t.label}: port ${t.port}, pids ${t.pids.join(",")}`);
  }
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < targets.length; k++) {
      const t = targets[(k + round) % targets.length]!;
      const url = `http://127.0.0.1:${t.port}/`;
      await runWrk(url, 64, 2);
      t.pids = pidsOf(t.proc);
      const cpu0 = cpuSeconds(t.pids);
      const w = await runWrk(url, 64, seconds);
      const cpu = cpuSeconds(t.pids) - cpu0;
      t.rps.push(w.rps);
      t.p99.push(w.p99Ms);
      t.cpuUs.push((cpu * 1e6) / Math.max(1, w.requests));
      t.errors += w.errors.connect + w.errors.read + w.errors.write + w.errors.timeout + w.errors.non2xx;
      log(`round ${round + 1}/${rounds} ${t.label}: ${w.rps.toFixed(0)} req/s p99 ${w.p99Ms.toFixed(1)} ms`);
    }
  }
  const med = (t: Target) => median(t.rps);
  const find = (kind: Target["kind"], w: number) => targets.find((t) => t.kind === kind && t.workers === w)!;
  const lines = [
    `| target | req/s (median of ${rounds}) | p99 ms | CPU µs/request | errors |`,
    "|---|---|---|---|---|",
    ...targets.map(
      (t) =>
        `| ${t.label} | ${med(t).toFixed(0)} | ${median(t.p99).toFixed(1)} | ${median(t.cpuUs).toFixed(0)} | ${t.errors} |`,
    ),
    "",
    "| proxy | 2 workers / 1 worker |",
    "|---|---|",
    ...(["nginx", "haproxy", "agent"] as const).map(
      (k) => `| ${k} | ${(med(find(k, 2)) / med(find(k, 1))).toFixed(2)} |`,
    ),
    "",
    `agent 2 workers / nginx 2 workers: ${(med(find("agent", 2)) / med(find("nginx", 2))).toFixed(2)}`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  for (const t of [...targets, ...backendProcs.map((proc) => ({ proc }))]) await stop(t.proc);
  rmSync(dir, { recursive: true, force: true });
}

runMain(main);
