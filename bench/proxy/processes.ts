import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { openSync, readdirSync, readFileSync } from "node:fs";
import { connect, createServer } from "node:net";

/**
 * Every child the harness starts, so all of them die with it: each runs in its own
 * process group (nginx masters take their workers along) and is killed on exit,
 * SIGINT, SIGTERM, SIGHUP and uncaught errors.
 */
const children = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {}
  }
}

export function killAll(): void {
  for (const c of children) killGroup(c, "SIGKILL");
  children.clear();
}

let installed = false;
export function installExitHandlers(): void {
  if (installed) return;
  installed = true;
  process.on("exit", killAll);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping every child process\n`);
      killAll();
      process.exit(130);
    });
  }
  process.on("uncaughtException", (e) => {
    process.stderr.write(`bench: ${e.stack ?? e}\n`);
    killAll();
    process.exit(1);
  });
}

/** Registers a child started elsewhere (e.g. fork) so it dies with the harness. */
export function adopt(child: ChildProcess): void {
  children.add(child);
  child.once("exit", () => children.delete(child));
}

/** The soft and hard open-file limits of this process (children inherit them). */
export function fdLimits(): { soft: number; hard: number } {
  const read = (flag: string) => {
    const out = execFileSync("sh", ["-c", `ulimit ${flag}`], { encoding: "utf8" }).trim();
    return out === "unlimited" ? Number.POSITIVE_INFINITY : Number(out);
  };
  return { soft: read("-Sn"), hard: read("-Hn") };
}

export interface Started {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
}

/** Starts a long-running process whose output goes to logFile. */
export function start(
  name: string,
  cmd: string,
  args: string[],
  logFile: string,
  env?: NodeJS.ProcessEnv,
): Started {
  const fd = openSync(logFile, "a");
  const child = spawn(cmd, args, { stdio: ["ignore", fd, fd], detached: true, env: env ?? process.env });
  if (child.pid === undefined) throw new Error(`cannot start ${name} (${cmd})`);
  children.add(child);
  child.once("exit", () => children.delete(child));
  return { name, child, pid: child.pid, logFile };
}

export async function stop(p: Started, graceMs = 3000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.child.once("exit", () => r()));
  killGroup(p.child, "SIGTERM");
  const timer = setTimeout(() => killGroup(p.child, "SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

export function logTail(p: Started, lines = 20): string {
  try {
    return readFileSync(p.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/** Runs a command to completion, capturing stdout; rejects after timeoutMs. */
export function run(
  cmd: string,
  args: string[],
  timeoutMs: number,
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
    children.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => {
      stdout += d;
    });
    child.stderr!.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      killGroup(child, "SIGKILL");
      reject(new Error(`${cmd} ${args.join(" ")} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once("error", (e) => {
      clearTimeout(timer);
      children.delete(child);
      reject(e);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ stdout, stderr, code });
    });
  });
}

/** A port that was free a moment ago (bind to 0, read, close). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port: number, p: Started, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) {
      throw new Error(`${p.name} exited before listening on ${port}:\n${logTail(p)}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: "127.0.0.1", port });
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${p.name} is not listening on ${port}:\n${logTail(p)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function ppidAndTicks(
  pid: number,
): { ppid: number; ticks: number; user: number; system: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may contain spaces.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // f[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
    const user = Number(f[11]);
    const system = Number(f[12]);
    return { ppid: Number(f[1]), ticks: user + system, user, system };
  } catch {
    return undefined;
  }
}

/** The pid and all its descendants (nginx's workers are children of its master). */
export function processTree(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const s = ppidAndTicks(Number(name));
    if (s) parentOf.set(Number(name), s.ppid);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of parentOf) if (ppid === tree[i]) tree.push(pid);
  }
  return tree;
}

/** User + system CPU seconds used so far by the given processes (all their threads). */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) ticks += ppidAndTicks(pid)?.ticks ?? 0;
  return ticks / CLK_TCK;
}

/** User and system CPU seconds used so far by the given processes, apart. */
export function cpuSplitSeconds(pids: readonly number[]): { user: number; system: number } {
  let user = 0;
  let system = 0;
  for (const pid of pids) {
    const t = ppidAndTicks(pid);
    user += t?.user ?? 0;
    system += t?.system ?? 0;
  }
  return { user: user / CLK_TCK, system: system / CLK_TCK };
}

/** Resident set size in KiB, from /proc/PID/status VmRSS. */
export function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

export function which(cmd: string): string | undefined {
  try {
    return execFileSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs a harness's main(): every child process is killed when it ends; exit
 * code 0, or 1 with the error (and `hint`, if given) on stderr.
 */
export function runMain(main: () => Promise<void>, hint?: string): void {
  main().then(
    () => {
      killAll();
      process.exit(0);
    },
    (e) => {
      process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
      if (hint !== undefined) process.stderr.write(`${hint}\n`);
      killAll();
      process.exit(1);
    },
  );
}
