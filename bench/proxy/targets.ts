import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { snapshotSchema } from "@fulcrum/protocol";
import { agentSnapshot, nginxBackendConf } from "./configs";
import { httpGet } from "./http-check";
import { processTree, type Started, start, waitForPort } from "./processes";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");
let agentBin = join(REPO_ROOT, "apps/agent/bin/fulcrum-agent.js");

/**
 * Benchmarks the agent as committed at `rev` instead of the working tree: apps/agent and
 * packages/ are extracted with git archive into `dir`, with the workspace's node_modules
 * links copied beside them (they are relative) and the root node_modules linked.
 */
export function useAgentRevision(rev: string, dir: string): string {
  const { commit, bin } = extractAgentRevision(rev, dir);
  agentBin = bin;
  return commit;
}

/** apps/agent and packages/ at `rev`, extracted into `dir`; returns the short commit and the agent's bin path. */
export function extractAgentRevision(rev: string, dir: string): { commit: string; bin: string } {
  mkdirSync(dir, { recursive: true });
  const sh = (cmd: string) =>
    execFileSync("sh", ["-c", cmd], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  const commit = execFileSync("git", ["rev-parse", "--short", `${rev}^{commit}`], {
    cwd: REPO_ROOT,
    encoding: "utf8",
  }).trim();
  sh(`git archive ${q(commit)} apps/agent packages | tar -x -C ${q(dir)}`);
  sh(
    `for m in apps/agent/node_modules packages/*/node_modules; do [ -d "$m" ] && mkdir -p ${q(dir)}/"$(dirname "$m")" && cp -a "$m" ${q(dir)}/"$m"; done; true`,
  );
  symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"));
  return { commit, bin: join(dir, "apps/agent/bin/fulcrum-agent.js") };
}

/** nginx with its own prefix directory, in the foreground (its own process group). */
export function startNginx(name: string, dir: string, conf: string): Started {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "nginx.conf");
  writeFileSync(file, conf);
  return start(
    name,
    "nginx",
    ["-p", dir, "-c", file, "-e", join(dir, "error.log"), "-g", "daemon off;"],
    join(dir, "stdout.log"),
  );
}

/** One nginx backend per port (answering GET / with 200), each in `dir`/backend-N; resolves once all answer. */
export async function startNginxBackends(dir: string, ports: readonly number[]): Promise<Started[]> {
  const procs = ports.map((port, i) => {
    const own = join(dir, `backend-${i + 1}`);
    return startNginx(`backend-${i + 1}`, own, nginxBackendConf(own, port));
  });
  await Promise.all(procs.map((p, i) => ready(p, ports[i]!)));
  return procs;
}

export function startHaproxy(name: string, dir: string, conf: string): Started {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "haproxy.cfg");
  writeFileSync(file, conf);
  return start(name, "haproxy", ["-db", "-f", file], join(dir, "haproxy.log"));
}

/**
 * The Fulcrum agent in standalone mode, serving a generated snapshot file; `nodeArgs` e.g. --cpu-prof,
 * `node` the Node.js binary that runs it (another version: bench/proxy/agent-variants.ts).
 */
export function startAgent(
  name: string,
  dir: string,
  listeners: { protocol: "http" | "tcp"; port: number }[],
  backends: number[],
  bin = agentBin,
  nodeArgs: readonly string[] = [],
  node = process.execPath,
): Started {
  mkdirSync(dir, { recursive: true });
  const snapshot = agentSnapshot(listeners, backends);
  const check = snapshotSchema.safeParse(snapshot);
  if (!check.success) throw new Error(`generated snapshot is invalid: ${check.error.issues[0]?.message}`);
  const file = join(dir, "snapshot.json");
  writeFileSync(file, `${JSON.stringify(snapshot, null, 2)}\n`);
  // One worker: these targets measure per-core speed against nginx with 1 worker (bench/proxy/workers.ts scales).
  const args = [...nodeArgs, bin, "--config", file, "--workers", "1"];
  return start(name, node, args, join(dir, "agent.log"), {
    ...process.env,
    FULCRUM_LOG_LEVEL: "warn",
  });
}

/** Waits until the port accepts connections and answers GET / with 200. */
export async function ready(p: Started, port: number): Promise<void> {
  await waitForPort(port, p);
  const r = await httpGet(port);
  if (r.status !== 200) throw new Error(`${p.name} on ${port} answered ${r.status}: ${r.body.slice(0, 200)}`);
}

/** Pids whose CPU time counts for a target (nginx: master and workers). */
export function pidsOf(p: Started): number[] {
  return processTree(p.pid);
}
