// `bash scripts/start.sh`: the console on the embedded database, one local
// agent, three demo backends and a light traffic generator. Ctrl-C stops all.
// With FULCRUM_DEMO=0 only the console, and where to go first.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import tls from "node:tls";
import { fileURLToPath } from "node:url";
import { DEMO_BACKENDS, type DemoBackend, startDemoBackend } from "./backends";
import { ConsoleApi } from "./console-api";
import {
  bindingLine,
  consoleBinding,
  consoleOnlyReady,
  consolePublicUrl,
  dataDescription,
  demoReady,
  isDemo,
  localUrl,
  seedLine,
} from "./messages";
import { DEMO_PORTS, seedDemoTopology } from "./seed";
import { ensureDemoTls } from "./tls";
import { startTraffic } from "./traffic";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const demo = isDemo(process.env);
const port = Number(process.env.PORT ?? 3000);
const binding = consoleBinding(process.env, demo);
const consoleUrl = localUrl(binding, port);
const publicUrl = consolePublicUrl(process.env, port);
const dataDir = path.resolve(process.env.FULCRUM_DATA_DIR ?? path.join(root, ".fulcrum"));
const data = dataDescription(process.env, dataDir);
/** Prefix of this script's own lines. */
const tag = demo ? "[demo]" : "[start]";
const admin = {
  email: process.env.FULCRUM_ADMIN_EMAIL ?? "admin@fulcrum.local",
  password: process.env.FULCRUM_ADMIN_PASSWORD ?? "fulcrum-demo-admin",
};

const children: ChildProcess[] = [];
const backends: DemoBackend[] = [];
let traffic: ReturnType<typeof startTraffic> | undefined;
let stopping = false;

/**
 * Lines the console prints that say nothing to someone starting Fulcrum: Next times loading its
 * own config on every start ("✓ Running next.config.ts took 2.1s").
 */
const CONSOLE_NOISE = [/Running next\.config\.\w+ took /];

function run(
  name: string,
  command: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; noise?: RegExp[] },
): ChildProcess {
  const { noise = [], ...spawnOpts } = opts;
  const child = spawn(command, args, { ...spawnOpts, stdio: ["ignore", "pipe", "pipe"] });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split("\n")
      .filter((l) => l.trim() !== "" && !noise.some((n) => n.test(l)))
      .map((l) => (l.startsWith(`[${name}]`) ? `${l}\n` : `[${name}] ${l}\n`))
      .join("");
  child.stdout?.on("data", (d: Buffer) => process.stdout.write(prefix(d)));
  child.stderr?.on("data", (d: Buffer) => process.stderr.write(prefix(d)));
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`${tag} ${name} exited (${signal ?? code}); stopping${demo ? " the demo" : ""}`);
      void shutdown(1);
    }
  });
  children.push(child);
  return child;
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** `file` relative to the directory start.sh runs in when it lies below it (.fulcrum/demo-tls/ca.pem). */
function shortPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel.startsWith("..") || path.isAbsolute(rel) ? file : rel;
}

/** A TLS handshake with `localhost` on `port` succeeds, verified against `ca`. */
function handshakes(port: number, ca: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: "127.0.0.1", port, servername: "localhost", ca }, () => {
      socket.end();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
    socket.setTimeout(2000, () => socket.destroy(new Error("handshake timed out")));
  });
}

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  traffic?.stop();
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once("exit", () => resolve());
          c.kill("SIGTERM");
          setTimeout(() => c.kill("SIGKILL"), 10_000).unref();
        }),
    ),
  );
  await Promise.all(backends.map((b) => b.close()));
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

function startConsole(env: NodeJS.ProcessEnv): void {
  run("console", process.execPath, ["--import", "tsx", "server.ts"], {
    cwd: path.join(root, "apps/console"),
    env: { ...process.env, PORT: String(port), HOST: binding.host, FULCRUM_DATA_DIR: dataDir, ...env },
    noise: CONSOLE_NOISE,
  });
}

/** Resolves with the console's health once it answers (the database is up and migrated then). */
async function consoleHealth(): Promise<{ needsSetup: boolean }> {
  let health: { needsSetup: boolean } | undefined;
  await waitFor(
    "the console",
    async () => {
      const res = await fetch(`${consoleUrl}/api/health`);
      if (res.ok) health = (await res.json()) as { needsSetup: boolean };
      return res.ok;
    },
    120_000,
  );
  return health!;
}

async function consoleOnly(): Promise<void> {
  startConsole({});
  const { needsSetup } = await consoleHealth();
  console.log(
    consoleOnlyReady({
      url: publicUrl,
      needsSetup,
      binding: bindingLine(binding, port, false),
      data,
    }),
  );
}

async function main(): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  if (!demo) return consoleOnly();
  for (const b of DEMO_BACKENDS) backends.push(await startDemoBackend(b.name, b.port, b.behaviour));

  startConsole({ FULCRUM_ADMIN_EMAIL: admin.email, FULCRUM_ADMIN_PASSWORD: admin.password });
  await consoleHealth();

  const demoTls = ensureDemoTls(path.join(dataDir, "demo-tls"));
  const api = new ConsoleApi(consoleUrl);
  await api.signIn(admin.email, admin.password);
  const seed = await seedDemoTopology(api, demoTls);
  const { clusterId } = seed;
  console.log(`[demo] ${seedLine(seed, DEMO_PORTS)}`);

  const stateDir = path.join(dataDir, "demo-agent");
  // The demo agent runs on this machine: plain http to one of its own addresses (HOST bound to a
  // LAN address) never crosses the network, so it opts in to what the agent refuses by default.
  const agentArgs = [
    "--console",
    consoleUrl,
    "--insecure-console-url",
    "--state-dir",
    stateDir,
    "--name",
    "demo-agent",
  ];
  if (!existsSync(path.join(stateDir, "credential.json"))) {
    // A fresh state directory: forget an older demo agent of that name, then enroll anew.
    const agents = await api.query<Array<{ id: string; name: string }>>("agent.list", { clusterId });
    const old = agents.find((a) => a.name === "demo-agent");
    if (old) await api.mutate("agent.delete", { id: old.id });
    const token = await api.mutate<{ secret: string }>("agent.createEnrollmentToken", {
      clusterId,
      name: "demo agent",
      expiresInHours: 1,
    });
    agentArgs.push("--token", token.secret);
  }
  run("agent", process.execPath, [path.join(root, "apps/agent/bin/fulcrum-agent.js"), ...agentArgs], {
    cwd: root,
    env: process.env,
  });
  await waitFor(
    "the agent's demo listener",
    async () => (await fetch(`http://127.0.0.1:${DEMO_PORTS.http}/`)).status > 0,
    30_000,
  );
  await waitFor("the agent's HTTPS listener", () => handshakes(DEMO_PORTS.https, demoTls.caPem), 30_000);
  traffic = startTraffic(DEMO_PORTS, 20, demoTls.caPem);

  console.log(
    demoReady({
      url: publicUrl,
      admin,
      ports: DEMO_PORTS,
      caFile: shortPath(demoTls.caFile),
      binding: bindingLine(binding, port, true),
      data,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(`${tag} ${err instanceof Error ? err.message : String(err)}`);
  void shutdown(1);
});
