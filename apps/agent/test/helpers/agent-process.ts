import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../bin/fulcrum-agent.js", import.meta.url));

/**
 * How long a wait without its own limit lasts before it fails. A limit for a hang, not a speed
 * rule: waits end when the condition holds, and the test run's layers share two cores, where an
 * agent's start alone has taken over 10 s.
 */
export const WAIT_MS = 30_000;

export interface AgentProcess {
  child: ChildProcess;
  stderr(): string;
  waitFor(pattern: RegExp, ms?: number): Promise<void>;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

/**
 * Runs the real CLI as a child process, as an operator would. One data-plane
 * process (FULCRUM_WORKERS=1) unless the test asks for workers (`--workers N`
 * wins over the environment): the default, auto, would make what a test
 * means depend on the machine's cores.
 */
export function spawnAgent(args: string[], env: Record<string, string> = {}): AgentProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    // Cast: apps that augment ProcessEnv (Next adds NODE_ENV) import this helper too.
    env: {
      PATH: process.env.PATH ?? "",
      FULCRUM_LOG_LEVEL: "debug",
      FULCRUM_WORKERS: "1",
      ...env,
    } as unknown as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  const waiters = new Set<() => void>();
  child.stderr?.on("data", (d) => {
    err += d;
    for (const w of waiters) w();
  });
  child.stdout?.on("data", (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return {
    child,
    stderr: () => err,
    exited,
    waitFor(pattern, ms = WAIT_MS) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pattern.test(err)) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern}; stderr so far:\n${err}`));
        }, ms);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        exited.then(() => setTimeout(check, 0));
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
