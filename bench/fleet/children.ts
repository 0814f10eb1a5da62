import type { ChildProcess } from "node:child_process";

/**
 * Every child the fleet bench starts dies with it: on exit, SIGINT, SIGTERM, SIGHUP and
 * uncaught errors each child's process group gets SIGKILL.
 */
const children = new Set<ChildProcess>();
const cleanups = new Set<() => void>();

export function killChild(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {}
  }
}

export function adopt(child: ChildProcess): void {
  children.add(child);
  child.once("exit", () => children.delete(child));
}

/** Runs at exit (synchronously): close sockets, remove temp dirs. */
export function onExit(fn: () => void): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

function cleanupAll(): void {
  for (const c of children) killChild(c);
  children.clear();
  for (const fn of cleanups) {
    try {
      fn();
    } catch {}
  }
  cleanups.clear();
}

let installed = false;
export function installExitHandlers(): void {
  if (installed) return;
  installed = true;
  process.on("exit", cleanupAll);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      process.stderr.write(`\nfleet: ${sig}, stopping the console child and closing every socket\n`);
      cleanupAll();
      process.exit(130);
    });
  }
  process.on("uncaughtException", (e) => {
    process.stderr.write(`fleet: ${e.stack ?? e}\n`);
    cleanupAll();
    process.exit(1);
  });
  process.on("unhandledRejection", (e) => {
    process.stderr.write(`fleet: unhandled rejection: ${e instanceof Error ? e.stack : String(e)}\n`);
    cleanupAll();
    process.exit(1);
  });
}
