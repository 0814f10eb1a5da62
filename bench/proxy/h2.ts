/**
 * HTTP/2 speed (issue 18): the agent's HTTP/2 front end (TLS, ALPN h2) against
 * nginx (1 worker, `listen … ssl http2`) and HAProxy (nbthread 1, `alpn
 * h2,http/1.1`), each with HTTP/1.1 keep-alive to the same nginx backend and the
 * same ECDSA P-256 certificate. `h2load -c64 -m10` (64 connections × 10
 * concurrent streams), in interleaved rounds; medians over the rounds of req/s,
 * p99 (from h2load's per-request log) and the target's CPU per request.
 * Usage: pnpm --filter @fulcrum/bench h2 [--seconds 5] [--rounds 3] [--streams 10]
 * Results: printed, and bench/results/h2-<time>.json.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeMachine } from "./machine";
import {
  cpuSeconds,
  freePort,
  installExitHandlers,
  run,
  runMain,
  type Started,
  stop,
  waitForPort,
} from "./processes";
import { writeResultsFile } from "./results-file";
import { median, ratio } from "./stats";
import { pidsOf, startNginxBackends } from "./targets";
import { makeCert, startTlsAgent, startTlsHaproxy, startTlsNginx } from "./tls-targets";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i < 0 ? Number.NaN : Number(process.argv[i + 1]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}
const seconds = arg("seconds", 5);
const rounds = arg("rounds", 3);
const CLIENTS = 64;
const STREAMS = arg("streams", 10);
const startedAt = new Date().toISOString();
installExitHandlers();
const dir = mkdtempSync(join(tmpdir(), "fulcrum-bench-h2-"));

interface Sample {
  rps: number;
  p99Ms: number;
  failed: number;
  cpuUsPerRequest: number;
}

/** The 99th percentile of h2load's per-request log (third column: µs to the end of the response). */
function p99FromLog(file: string): number {
  const us = readFileSync(file, "utf8")
    .split("\n")
    .map((l) => Number(l.split("\t")[2]))
    .filter((n) => Number.isFinite(n) && n > 0)
    .sort((a, b) => a - b);
  return us.length === 0 ? Number.NaN : us[Math.floor(us.length * 0.99)]! / 1000;
}

async function h2load(port: number, target: Started, secs: number): Promise<Sample> {
  const log = join(dir, `h2load-${port}.log`);
  rmSync(log, { force: true });
  const pids = pidsOf(target);
  const cpu0 = cpuSeconds(pids);
  const r = await run(
    "h2load",
    [
      "-c",
      String(CLIENTS),
      "-m",
      String(STREAMS),
      "-D",
      String(secs),
      "--log-file",
      log,
      `https://127.0.0.1:${port}/`,
    ],
    (secs + 60) * 1000,
  );
  const cpu = cpuSeconds(pids) - cpu0;
  const rps = Number(/finished in [\d.]+s, ([\d.]+) req\/s/.exec(r.stdout)?.[1]);
  const m = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed/.exec(r.stdout);
  if (!Number.isFinite(rps) || !m) throw new Error(`h2load output not understood:\n${r.stdout}\n${r.stderr}`);
  const succeeded = Number(m[3]);
  if (!/h2/.test(r.stdout)) throw new Error(`h2load did not negotiate h2:\n${r.stdout}`);
  return { rps, p99Ms: p99FromLog(log), failed: Number(m[4]), cpuUsPerRequest: (cpu / succeeded) * 1e6 };
}

async function main(): Promise<void> {
  const [backendPort, agentPort, nginxPort, haproxyPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  mkdirSync(dir, { recursive: true });
  const backends = await startNginxBackends(dir, [backendPort!]);
  const cert = makeCert(dir, "ecdsa");
  const targets: Record<string, { port: number; p: Started }> = {
    agent: {
      port: agentPort!,
      p: startTlsAgent(join(dir, "agent"), [cert], [agentPort!], backendPort!, undefined, { h2: true }),
    },
    nginx: {
      port: nginxPort!,
      p: startTlsNginx(join(dir, "nginx"), [cert], [nginxPort!], backendPort!, true),
    },
    haproxy: {
      port: haproxyPort!,
      p: startTlsHaproxy(join(dir, "haproxy"), [cert], [haproxyPort!], backendPort!, true),
    },
  };
  for (const t of Object.values(targets)) await waitForPort(t.port, t.p);
  const names = Object.keys(targets);
  for (const n of names) await h2load(targets[n]!.port, targets[n]!.p, 2); // warm-up
  const samples: Record<string, Sample[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < rounds; round++) {
    // Rotating order: no target always runs right after another's load.
    for (let k = 0; k < names.length; k++) {
      const n = names[(round + k) % names.length]!;
      const s = await h2load(targets[n]!.port, targets[n]!.p, seconds);
      samples[n]!.push(s);
      process.stdout.write(
        `round ${round + 1} ${n}: ${s.rps.toFixed(0)} req/s, p99 ${s.p99Ms.toFixed(1)} ms, ${s.cpuUsPerRequest.toFixed(0)} µs CPU/req, failed ${s.failed}\n`,
      );
    }
  }
  const summary = Object.fromEntries(
    names.map((n) => {
      const xs = samples[n]!;
      return [
        n,
        {
          rps: median(xs.map((x) => x.rps)),
          p99Ms: median(xs.map((x) => x.p99Ms)),
          cpuUsPerRequest: median(xs.map((x) => x.cpuUsPerRequest)),
          failed: xs.reduce((a, x) => a + x.failed, 0),
        },
      ];
    }),
  );
  const vsNginx = Object.fromEntries(names.map((n) => [n, ratio(summary[n]!.rps, summary.nginx!.rps)]));
  console.log("\nmedians:", JSON.stringify(summary, null, 2), "\nreq/s vs nginx:", JSON.stringify(vsNginx));
  const file = writeResultsFile(
    {
      machine: describeMachine(),
      seconds,
      rounds,
      clients: CLIENTS,
      streams: STREAMS,
      samples,
      summary,
      vsNginx,
    },
    startedAt,
    "h2-",
  );
  console.log(`results: ${file}`);
  for (const t of Object.values(targets)) await stop(t.p);
  for (const b of backends) await stop(b);
}

runMain(main, "needs h2load (apt nghttp2-client), nginx and haproxy");
