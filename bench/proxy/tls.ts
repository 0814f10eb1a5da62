/**
 * HTTPS speed (issue 16): the agent's TLS front end against nginx (1 worker)
 * terminating TLS with the same ECDSA P-256 certificate, in front of the same
 * nginx backend. Two measurements per target, one after the other:
 * keep-alive HTTPS req/s at c64, and new-connection requests/s (wrk with
 * `Connection: close`: one full handshake per request; wrk does not resume
 * sessions). Usage: pnpm --filter @fulcrum/bench tls [--seconds 10]
 * Results: printed, and bench/results/tls-<time>.json.
 */
import { execFileSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nginxBackendConf, nginxProxyConf } from "./configs";
import { describeMachine } from "./machine";
import {
  cpuSeconds,
  freePort,
  installExitHandlers,
  run,
  type Started,
  start,
  stop,
  waitForPort,
} from "./processes";
import { writeResultsFile } from "./results-file";
import { pidsOf, REPO_ROOT, startNginx } from "./targets";
import { parseWrk, type WrkResult } from "./wrk";

const seconds = Number(process.argv[process.argv.indexOf("--seconds") + 1]) || 10;
const startedAt = new Date().toISOString();
installExitHandlers();
const dir = mkdtempSync(join(tmpdir(), "fulcrum-bench-tls-"));

// One certificate for both, as an operator would make it.
const certFile = join(dir, "cert.pem");
const keyFile = join(dir, "key.pem");
execFileSync("openssl", [
  "req",
  "-x509",
  "-newkey",
  "ec",
  "-pkeyopt",
  "ec_paramgen_curve:prime256v1",
  "-nodes",
  "-keyout",
  keyFile,
  "-out",
  certFile,
  "-days",
  "2",
  "-subj",
  "/CN=bench.test",
  "-addext",
  "subjectAltName=DNS:bench.test",
]);
const chainPem = readFileSync(certFile, "utf8");
const keyPem = readFileSync(keyFile, "utf8");
const fingerprint = createHash("sha256").update(new X509Certificate(chainPem).raw).digest("hex");

async function wrk(url: string, close: boolean): Promise<WrkResult> {
  const args = [
    "-t2",
    "-c64",
    `-d${seconds}s`,
    "--latency",
    ...(close ? ["-H", "Connection: close"] : []),
    url,
  ];
  const { stdout, stderr, code } = await run("wrk", args, (seconds + 30) * 1000);
  if (code !== 0) throw new Error(`wrk ${args.join(" ")} exited ${code}: ${stderr}${stdout}`);
  return parseWrk(stdout);
}

async function measure(name: string, target: Started, port: number) {
  const url = `https://127.0.0.1:${port}/`;
  const pids = pidsOf(target);
  const out: Record<string, unknown> = {};
  for (const [label, close] of [
    ["keepAlive", false],
    ["newConnection", true],
  ] as const) {
    const cpu0 = cpuSeconds(pids);
    const r = await wrk(url, close);
    const cpu = cpuSeconds(pids) - cpu0;
    out[label] = { rps: r.rps, p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors: r.errors, cpuSeconds: cpu };
    console.log(`${name} ${label}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99Ms} ms, CPU ${cpu.toFixed(1)} s`);
  }
  return out;
}

const backendPort = await freePort();
const backend = startNginx(
  "backend",
  join(dir, "backend"),
  nginxBackendConf(join(dir, "backend"), backendPort),
);
await waitForPort(backendPort, backend);

const agentPort = await freePort();
const agentDir = join(dir, "agent");
mkdirSync(agentDir, { recursive: true });
const config = {
  snapshot: {
    version: 1,
    hash: "0".repeat(64),
    clusterId: "bench",
    createdAt: startedAt,
    certificates: [{ id: "bench", fingerprint, names: ["bench.test"], notAfter: "2100-01-01T00:00:00Z" }],
    listeners: [
      {
        id: "l-tls",
        name: "bench-https",
        protocol: "http",
        bindAddress: "127.0.0.1",
        port: agentPort,
        tls: { certificateIds: ["bench"], defaultCertificateId: "bench" },
        routes: [{ id: "r", host: "", pathPrefix: "/", priority: 0, poolId: "p" }],
      },
    ],
    pools: [
      {
        id: "p",
        name: "p",
        policy: "round_robin",
        policyOptions: {},
        healthCheck: {},
        persistence: {},
        backends: [
          {
            id: "b",
            name: "b",
            address: "127.0.0.1",
            port: backendPort,
            weight: 1,
            state: "enabled",
            backup: false,
          },
        ],
      },
    ],
  },
  tlsMaterial: [{ id: "bench", fingerprint, chainPem, keyPem }],
};
writeFileSync(join(agentDir, "config.json"), JSON.stringify(config));
const agent = start(
  "agent",
  process.execPath,
  [join(REPO_ROOT, "apps/agent/bin/fulcrum-agent.js"), "--config", join(agentDir, "config.json")],
  join(agentDir, "agent.log"),
  { ...process.env, FULCRUM_LOG_LEVEL: "warn" },
);
await waitForPort(agentPort, agent);

const nginxPort = await freePort();
const nginxConf = nginxProxyConf(join(dir, "nginx"), nginxPort, [backendPort]).replace(
  `listen 127.0.0.1:${nginxPort} backlog=4096;`,
  `listen 127.0.0.1:${nginxPort} ssl backlog=4096;
    ssl_certificate ${certFile};
    ssl_certificate_key ${keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;`,
);
const nginx = startNginx("nginx", join(dir, "nginx"), nginxConf);
await waitForPort(nginxPort, nginx);

const results = {
  agent: await measure("agent", agent, agentPort),
  nginx: await measure("nginx (1 worker)", nginx, nginxPort),
};
await Promise.all([stop(agent), stop(nginx), stop(backend)]);
const file = writeResultsFile(
  {
    startedAt,
    command: `pnpm --filter @fulcrum/bench tls --seconds ${seconds}`,
    machine: describeMachine(),
    certificate: "ECDSA P-256, self-signed, openssl req",
    load: "wrk -t2 -c64 https://127.0.0.1:PORT/ (newConnection adds -H 'Connection: close')",
    results,
  },
  startedAt,
  "tls-",
);
console.log(`results: ${file}`);
process.exit(0);
