/**
 * HTTPS speed (issue 16): the agent's TLS front end against nginx (1 worker)
 * and HAProxy (nbthread 1) terminating TLS with the same certificates (ECDSA
 * P-256 and RSA 2048) in front of the same nginx backend. In one run, in
 * interleaved rounds (each round measures every target once per measurement,
 * in a rotating order), medians over the rounds:
 * - keepAlive: wrk -t2 -c64, keep-alive HTTPS req/s;
 * - newConnection: wrk with `Connection: close`: one full handshake per request
 *   (wrk never resumes sessions);
 * - resumed: tls-resume-client.ts, a new connection per request that resumes
 *   the previous connection's session (ticket);
 * - fixedKeepAlive / fixedNewConnection: hey at a fixed rate (keep-alive, and
 *   -disable-keepalive: a full handshake per request), for CPU per request.
 * CPU is the target's own processes (utime+stime from /proc) over each measurement.
 * With --against REV the agent as committed at REV runs too ("agent-before"), for an A/B in the same run.
 * Usage: pnpm --filter @fulcrum/bench tls [--seconds 5] [--rounds 3] [--rate 1000] [--handshake-rate 200] [--against REV]
 * Results: printed, and bench/results/tls-<time>.json.
 */
import { fork } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nginxBackendConf } from "./configs";
import { heyArgs, parseHey } from "./hey";
import { describeMachine } from "./machine";
import { cpuSeconds, freePort, installExitHandlers, run, type Started, stop, waitForPort } from "./processes";
import { writeResultsFile } from "./results-file";
import { median, ratio } from "./stats";
import { extractAgentRevision, pidsOf, startNginx } from "./targets";
import type { ResumeResult } from "./tls-resume-client";
import {
  type BenchCert,
  KEY_TYPES,
  type KeyType,
  makeCert,
  SERVERNAME,
  startTlsAgent,
  startTlsHaproxy,
  startTlsNginx,
} from "./tls-targets";
import { parseWrk } from "./wrk";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i < 0 ? Number.NaN : Number(process.argv[i + 1]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}
const seconds = arg("seconds", 5);
const rounds = arg("rounds", 3);
const rate = arg("rate", 1000);
const handshakeRate = arg("handshake-rate", 200);
const resumeConcurrency = 16;
const startedAt = new Date().toISOString();
installExitHandlers();
const dir = mkdtempSync(join(tmpdir(), "fulcrum-bench-tls-"));

const MEASUREMENTS = [
  "keepAlive",
  "newConnection",
  "resumed",
  "fixedKeepAlive",
  "fixedNewConnection",
] as const;
type Measurement = (typeof MEASUREMENTS)[number];

/** One measurement of one target: requests answered 2xx per second, and CPU per such request. */
interface Sample {
  readonly rps: number;
  readonly ok: number;
  readonly cpuSeconds: number;
  readonly cpuUsPerRequest: number;
  readonly p99Ms?: number;
  /** Failed requests (connect/read/write errors, timeouts) plus non-2xx answers. */
  readonly failed: number;
  /** resumed: the share of requests whose handshake resumed a session. */
  readonly resumedShare?: number;
}

async function wrk(port: number, close: boolean) {
  const args = [
    "-t2",
    "-c64",
    `-d${seconds}s`,
    "--latency",
    ...(close ? ["-H", "Connection: close"] : []),
    `https://127.0.0.1:${port}/`,
  ];
  const { stdout, stderr, code } = await run("wrk", args, (seconds + 30) * 1000);
  if (code !== 0) throw new Error(`wrk ${args.join(" ")} exited ${code}: ${stderr}${stdout}`);
  const w = parseWrk(stdout);
  const e = w.errors;
  const failed = e.connect + e.read + e.write + e.timeout + e.non2xx;
  return { ok: w.requests - e.non2xx, rps: w.rps, p99Ms: w.p99Ms, failed };
}

async function hey(port: number, perSecond: number, keepAlive: boolean) {
  const args = heyArgs(`https://127.0.0.1:${port}/`, perSecond, seconds);
  if (!keepAlive) args.unshift("-disable-keepalive");
  const { stdout, stderr, code } = await run("hey", args, (seconds + 30) * 1000);
  if (code !== 0) throw new Error(`hey ${args.join(" ")} exited ${code}: ${stderr}${stdout}`);
  const h = parseHey(stdout);
  return {
    ok: h.ok,
    rps: h.ok / h.seconds,
    failed: h.errors + (Object.values(h.statuses).reduce((a, b) => a + b, 0) - h.ok),
  };
}

function resumeClient(port: number): Promise<ResumeResult> {
  return new Promise((resolve, reject) => {
    const child = fork(
      join(import.meta.dirname, "tls-resume-client.ts"),
      [String(port), SERVERNAME, String(seconds), String(resumeConcurrency)],
      { stdio: ["ignore", "pipe", "inherit", "ipc"] },
    );
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) reject(new Error(`tls-resume-client exited ${code}`));
      else resolve(JSON.parse(out) as ResumeResult);
    });
  });
}

async function measure(m: Measurement, target: Started, port: number): Promise<Sample> {
  const pids = pidsOf(target);
  const cpu0 = cpuSeconds(pids);
  let r: { ok: number; rps: number; failed: number; p99Ms?: number; resumedShare?: number };
  switch (m) {
    case "keepAlive":
      r = await wrk(port, false);
      break;
    case "newConnection":
      r = await wrk(port, true);
      break;
    case "resumed": {
      const c = await resumeClient(port);
      r = {
        ok: c.ok,
        rps: c.ok / c.seconds,
        failed: c.errors + c.non2xx,
        resumedShare: c.resumed / Math.max(1, c.ok),
      };
      break;
    }
    case "fixedKeepAlive":
      r = await hey(port, rate, true);
      break;
    case "fixedNewConnection":
      r = await hey(port, handshakeRate, false);
      break;
  }
  const cpu = cpuSeconds(pids) - cpu0;
  return { ...r, cpuSeconds: cpu, cpuUsPerRequest: (cpu * 1e6) / Math.max(1, r.ok) };
}

// ---- set-up -----------------------------------------------------------------

const certs: BenchCert[] = KEY_TYPES.map((t) => makeCert(dir, t));
const backendPort = await freePort();
const backend = startNginx(
  "backend",
  join(dir, "backend"),
  nginxBackendConf(join(dir, "backend"), backendPort),
);
await waitForPort(backendPort, backend);

type TargetId = "agent" | "agent-before" | "nginx" | "haproxy";
const againstAt = process.argv.indexOf("--against");
const against =
  againstAt < 0 ? undefined : extractAgentRevision(process.argv[againstAt + 1] ?? "HEAD", join(dir, "rev"));
const TARGETS: TargetId[] = against
  ? ["agent", "agent-before", "nginx", "haproxy"]
  : ["agent", "nginx", "haproxy"];
const LABELS: Record<TargetId, string> = {
  agent: "agent",
  "agent-before": `agent at ${against?.commit}`,
  nginx: "nginx (1 worker)",
  haproxy: "HAProxy (nbthread 1)",
};
const targets = {} as Record<TargetId, { proc: Started; ports: Record<KeyType, number> }>;
for (const id of TARGETS) {
  const ports = [await freePort(), await freePort()];
  const sub = join(dir, id);
  mkdirSync(sub, { recursive: true });
  const proc =
    id === "agent"
      ? startTlsAgent(sub, certs, ports, backendPort)
      : id === "agent-before"
        ? startTlsAgent(sub, certs, ports, backendPort, against!.bin)
        : id === "nginx"
          ? startTlsNginx(sub, certs, ports, backendPort)
          : startTlsHaproxy(sub, certs, ports, backendPort);
  for (const p of ports) await waitForPort(p, proc);
  targets[id] = { proc, ports: { ecdsa: ports[0]!, rsa: ports[1]! } };
}

// ---- rounds -----------------------------------------------------------------

type Samples = Record<KeyType, Record<Measurement, Record<TargetId, Sample[]>>>;
const samples = Object.fromEntries(
  KEY_TYPES.map((k) => [
    k,
    Object.fromEntries(MEASUREMENTS.map((m) => [m, Object.fromEntries(TARGETS.map((id) => [id, []]))])),
  ]),
) as unknown as Samples;

// A short warm-up per target (the agent's JIT, every target's first handshakes), not recorded.
for (const id of TARGETS) for (const k of KEY_TYPES) await hey(targets[id].ports[k], 200, true);

for (let round = 0; round < rounds; round++) {
  for (const m of MEASUREMENTS) {
    for (const k of KEY_TYPES) {
      for (let i = 0; i < TARGETS.length; i++) {
        const id = TARGETS[(i + round) % TARGETS.length]!;
        const s = await measure(m, targets[id].proc, targets[id].ports[k]);
        samples[k][m][id].push(s);
        console.log(
          `round ${round + 1}/${rounds} ${m} ${k} ${LABELS[id]}: ${s.rps.toFixed(0)} req/s, ` +
            `${s.cpuUsPerRequest.toFixed(0)} µs CPU/req${s.failed ? `, ${s.failed} failed` : ""}` +
            `${s.resumedShare === undefined ? "" : `, ${(100 * s.resumedShare).toFixed(1)}% resumed`}`,
        );
      }
    }
  }
}
await Promise.all([...TARGETS.map((id) => stop(targets[id].proc)), stop(backend)]);

// ---- summary ----------------------------------------------------------------

interface Summary {
  rps: number;
  cpuUsPerRequest: number;
  p99Ms?: number;
  failed: number;
  resumedShare?: number;
}
const summarize = (xs: Sample[]): Summary => ({
  rps: median(xs.map((x) => x.rps)),
  cpuUsPerRequest: median(xs.map((x) => x.cpuUsPerRequest)),
  ...(xs[0]?.p99Ms === undefined ? {} : { p99Ms: median(xs.map((x) => x.p99Ms!)) }),
  failed: xs.reduce((n, x) => n + x.failed, 0),
  ...(xs[0]?.resumedShare === undefined ? {} : { resumedShare: Math.min(...xs.map((x) => x.resumedShare!)) }),
});
const summary = Object.fromEntries(
  KEY_TYPES.map((k) => [
    k,
    Object.fromEntries(
      MEASUREMENTS.map((m) => [
        m,
        Object.fromEntries(TARGETS.map((id) => [id, summarize(samples[k][m][id])])),
      ]),
    ),
  ]),
) as Record<KeyType, Record<Measurement, Record<TargetId, Summary>>>;

const ratios = Object.fromEntries(
  KEY_TYPES.map((k) => [
    k,
    Object.fromEntries(
      MEASUREMENTS.map((m) => {
        const s = summary[k][m];
        return [
          m,
          {
            rpsVsNginx: ratio(s.agent.rps, s.nginx.rps),
            rpsVsHaproxy: ratio(s.agent.rps, s.haproxy.rps),
            cpuVsNginx: ratio(s.agent.cpuUsPerRequest, s.nginx.cpuUsPerRequest),
            cpuVsHaproxy: ratio(s.agent.cpuUsPerRequest, s.haproxy.cpuUsPerRequest),
            ...(against
              ? {
                  rpsVsBefore: ratio(s.agent.rps, s["agent-before"].rps),
                  cpuVsBefore: ratio(s.agent.cpuUsPerRequest, s["agent-before"].cpuUsPerRequest),
                }
              : {}),
          },
        ];
      }),
    ),
  ]),
);

for (const k of KEY_TYPES) {
  console.log(`\n${k === "ecdsa" ? "ECDSA P-256" : "RSA 2048"}: median req/s (CPU µs/request)`);
  for (const id of TARGETS) {
    const cells = MEASUREMENTS.map(
      (m) => `${m} ${summary[k][m][id].rps.toFixed(0)} (${summary[k][m][id].cpuUsPerRequest.toFixed(0)})`,
    );
    console.log(`  ${LABELS[id].padEnd(22)} ${cells.join(" · ")}`);
  }
  const r = ratios[k] as unknown as Record<Measurement, { rpsVsNginx: number }>;
  console.log(
    `  agent/nginx req/s: keep-alive ${r.keepAlive.rpsVsNginx.toFixed(2)}×, handshakes ${r.newConnection.rpsVsNginx.toFixed(2)}×, resumed ${r.resumed.rpsVsNginx.toFixed(2)}×`,
  );
}

const file = writeResultsFile(
  {
    startedAt,
    command: `pnpm --filter @fulcrum/bench tls --seconds ${seconds} --rounds ${rounds} --rate ${rate} --handshake-rate ${handshakeRate}${against ? ` --against ${against.commit}` : ""}`,
    agentBefore: against?.commit,
    machine: describeMachine(),
    certificates: "self-signed, openssl req: ECDSA P-256 and RSA 2048; one port per key type on every target",
    load: {
      keepAlive: "wrk -t2 -c64 https://127.0.0.1:PORT/",
      newConnection:
        "wrk -t2 -c64 -H 'Connection: close' (a full handshake per request; wrk does not resume)",
      resumed: `bench/proxy/tls-resume-client.ts, ${resumeConcurrency} loops, a new connection per request offering the previous connection's session ticket`,
      fixedKeepAlive: `hey -c 50 -q ${rate / 50} (${rate} req/s in total), keep-alive`,
      fixedNewConnection: `hey -disable-keepalive -c 50 -q ${handshakeRate / 50} (${handshakeRate} req/s in total)`,
    },
    order:
      "rounds × measurements × key types × targets (target order rotated each round); medians over rounds",
    summary,
    ratios,
    samples,
  },
  startedAt,
  "tls-",
);
console.log(`results: ${file}`);
process.exit(0);
