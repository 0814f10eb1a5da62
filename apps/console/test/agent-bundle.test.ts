import { type ChildProcess, execFile, spawn } from "node:child_process";
import { promises as dns } from "node:dns";
import { copyFile, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { get, startNamedBackend } from "./support/backends";
import {
  actors,
  callerAs,
  freePort,
  repoRoot,
  startTestConsole,
  type TestConsole,
  waitFor,
} from "./support/console";

const run = promisify(execFile);

/** Only PATH (for haproxy): nothing that could lead node back to the repository's node_modules. */
// Cast: Next augments ProcessEnv with a required NODE_ENV.
const bareEnv = { PATH: process.env.PATH ?? "" } as unknown as NodeJS.ProcessEnv;

/** The single-file agent run by plain `node`, from a directory with no clone of the repository around it. */
interface BundledAgent {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Runs `command` (the first element: node, or an installed command) with its arguments. */
function startBundledAgent([command, ...args]: [string, ...string[]], cwd: string): BundledAgent {
  const child = spawn(command, args, {
    cwd,
    // One data-plane process, as every agent test runs unless it asks for workers.
    env: { ...bareEnv, FULCRUM_LOG_LEVEL: "debug", FULCRUM_WORKERS: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

const haproxyPool = {
  // What the HAProxy engine supports: no outlier detection, no retry budget (engine-support.ts).
  outlierDetection: {
    enabled: false,
    consecutiveFailures: 5,
    baseEjectionMs: 30_000,
    maxEjectionMs: 300_000,
    maxEjectedPercent: 50,
  },
  retries: { enabled: true, attempts: 1, budgetPercent: 100 },
};

describe("the bundled agent (pnpm --filter @fulcrum/agent bundle) outside the repository", () => {
  let c: TestConsole;
  let dir: string;
  let bundle: string;
  /** The command `npm install -g` of the tarball put in place. */
  let installed: string;
  const agents: BundledAgent[] = [];
  const backends: Array<Awaited<ReturnType<typeof startNamedBackend>>> = [];

  beforeAll(async () => {
    // The repository command an operator runs, then only its output file is copied away.
    await run("pnpm", ["--filter", "@fulcrum/agent", "bundle"], { cwd: repoRoot, timeout: 120_000 });
    dir = await mkdtemp(path.join(os.tmpdir(), "fulcrum-bundle-"));
    bundle = path.join(dir, "fulcrum-agent.mjs");
    await copyFile(path.join(repoRoot, "apps/agent/dist/fulcrum-agent.mjs"), bundle);
    c = await startTestConsole();
    backends.push(await startNamedBackend("alpha"), await startNamedBackend("bravo"));
  }, 180_000);
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await c?.stop();
    for (const b of backends) await b.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A cluster with one pool of both backends, an HTTP listener and (optionally) a DNS listener. */
  async function cluster(name: string, opts: { dns: boolean; pool?: object }) {
    const op = callerAs(c, actors.operator);
    const clusterId = (await op.cluster.create({ name })).id;
    const pool = await op.pool.create({ clusterId, name: "app", ...opts.pool });
    for (const b of backends)
      await op.backend.create({ poolId: pool.id, name: b.name, address: "127.0.0.1", port: b.port });
    const httpPort = await freePort();
    const web = await op.listener.create({
      clusterId,
      name: "web",
      bindAddress: "127.0.0.1",
      port: httpPort,
    });
    await op.route.create({ listenerId: web.id, poolId: pool.id });
    let dnsPort: number | undefined;
    if (opts.dns) {
      dnsPort = await freePort();
      const gslb = await op.listener.create({
        clusterId,
        name: "gslb",
        protocol: "dns",
        bindAddress: "127.0.0.1",
        port: dnsPort,
      });
      await op.route.create({ listenerId: gslb.id, poolId: pool.id, host: "app.example.com" });
    }
    const { secret } = await callerAs(c, actors.admin).agent.createEnrollmentToken({ clusterId });
    return { clusterId, httpPort, dnsPort, secret };
  }

  async function servedBodies(port: number): Promise<Set<string>> {
    await waitFor("the agent to serve the listener", async () => (await get(port)).status === 200, 30_000);
    const bodies = new Set<string>();
    for (let i = 0; i < 6; i++) bodies.add((await get(port)).body);
    return bodies;
  }

  it("is one executable file that names its version", async () => {
    const text = await readFile(bundle, "utf8");
    expect(text.startsWith("#!/usr/bin/env node\n")).toBe(true);
    const { stdout } = await run(bundle, ["--help"], { cwd: dir, env: bareEnv });
    expect(stdout).toMatch(/--state-dir DIR/);
  });

  it("installs as the fulcrum-agent command from the packed tarball (npm install -g, offline)", async () => {
    const tarball = path.join(dir, "fulcrum-agent-0.1.0.tgz");
    await copyFile(path.join(repoRoot, "apps/agent/dist/fulcrum-agent-0.1.0.tgz"), tarball);
    const prefix = path.join(dir, "prefix");
    await run("npm", ["install", "-g", "--offline", "--prefix", prefix, tarball], {
      cwd: dir,
      timeout: 60_000,
    });
    installed = path.join(prefix, "bin", "fulcrum-agent");
    const { stdout } = await run(installed, ["--help"], { cwd: dir, env: bareEnv });
    expect(stdout).toMatch(/^usage:/);
  });

  it("runs from the repository's bin through a symlink from any directory (as pnpm/npm link it)", async () => {
    const link = path.join(dir, "linked-fulcrum-agent");
    await symlink(path.join(repoRoot, "apps/agent/bin/fulcrum-agent.js"), link);
    const { stdout } = await run(link, ["--help"], { cwd: os.tmpdir(), env: bareEnv });
    expect(stdout).toMatch(/^usage:/);
  });

  it("enrolls with a token, keeps its credential in --state-dir, and serves HTTP and DNS (builtin engine)", async () => {
    const { clusterId, httpPort, dnsPort, secret } = await cluster("bundle-builtin", { dns: true });
    const stateDir = path.join(dir, "state-builtin");
    const args = ["--console", c.url, "--token", secret, "--state-dir", stateDir, "--name", "bundled-1"];
    agents.push(startBundledAgent([process.execPath, bundle, ...args], dir));

    expect(await servedBodies(httpPort)).toEqual(new Set(["alpha", "bravo"]));
    const resolver = new dns.Resolver({ timeout: 500, tries: 1 });
    resolver.setServers([`127.0.0.1:${dnsPort}`]);
    const answer = await waitFor("a DNS answer", () =>
      resolver.resolve4("app.example.com").catch(() => undefined),
    );
    expect(answer).toEqual(["127.0.0.1"]);

    const credential = JSON.parse(await readFile(path.join(stateDir, "credential.json"), "utf8"));
    expect(credential).toBeTypeOf("object");
    // The hello's fields reach the database through the gateway's batched status writer,
    // which may still be behind the socket on a loaded machine: wait for the row.
    const listed = await waitFor("the agent's software version in the list", async () => {
      const [a] = await callerAs(c, actors.viewer).agent.list({ clusterId });
      return a?.softwareVersion ? a : undefined;
    });
    expect(listed).toMatchObject({ name: "bundled-1", connected: true, softwareVersion: "0.1.0" });
  });

  it("drives HAProxy with --engine haproxy (the npm-installed command)", async () => {
    const { httpPort, secret } = await cluster("bundle-haproxy", { dns: false, pool: haproxyPool });
    const stateDir = path.join(dir, "state-haproxy");
    const args = ["--console", c.url, "--token", secret, "--state-dir", stateDir, "--engine", "haproxy"];
    const agent = startBundledAgent([installed, ...args], dir);
    agents.push(agent);

    expect(await servedBodies(httpPort)).toEqual(new Set(["alpha", "bravo"]));
    await waitFor("haproxy started in the log", () => /haproxy started/.test(agent.output()));
  });
});
