import { type ChildProcess, fork } from "node:child_process";
import { openSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { adopt, killChild } from "./children.ts";
import type { Ready, Reply, Request } from "./ipc.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const CLK_TCK = 100; // USER_HZ on Linux

type Op = Request extends infer R ? (R extends { op: infer O } ? O : never) : never;
type Args<O extends Op> = Omit<Extract<Request, { op: O }>, "id" | "op">;

/** The console child (console-child.ts): start, ask, read /proc, kill, start again on the same port. */
export class ConsoleProcess {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  port = 0;
  readyAt = 0;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly logFile: string,
  ) {}

  get pid(): number {
    if (this.child?.pid === undefined) throw new Error("console child is not running");
    return this.child.pid;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<void> {
    const log = openSync(this.logFile, "a");
    const child = fork(path.join(here, "console-child.ts"), [], {
      execArgv: ["--import", "tsx", "--expose-gc"],
      env: { ...this.env, PORT: String(port) },
      stdio: ["ignore", log, log, "ipc"],
      detached: true,
    });
    adopt(child);
    this.child = child;
    child.on("message", (m: Reply | Ready) => {
      if ("ready" in m) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`console child: ${m.error}`));
    });
    child.once("exit", (code, signal) => {
      for (const p of this.pending.values()) p.reject(new Error(`console child exited (${code ?? signal})`));
      this.pending.clear();
    });
    const ready = await new Promise<Ready>((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`console child exited with ${code} before it was ready; see ${this.logFile}`));
      child.once("exit", onExit);
      child.on("message", (m: Reply | Ready) => {
        if ("ready" in m) {
          child.off("exit", onExit);
          resolve(m);
        }
      });
    });
    this.port = ready.port;
    this.readyAt = ready.at;
  }

  request<O extends Op>(op: O, args: Args<O>): Promise<unknown> {
    const child = this.child;
    if (!child?.connected) return Promise.reject(new Error("console child is not running"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      child.send({ id, op, ...args });
    });
  }

  /** Kills the console at once (as a crash would) and waits for it to be gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    killChild(child, "SIGKILL");
    await exited;
  }

  /** Graceful stop: the console closes the database and the agents' sockets. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => killChild(child), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** utime+stime in ms and VmRSS/VmHWM in bytes from /proc/PID. */
  procStats(): { cpuMs: number; rss: number; hwm: number } {
    const stat = readFileSync(`/proc/${this.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is the state (field 3); utime and stime are fields 14 and 15.
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${this.pid}/status`, "utf8");
    const kb = (key: string) =>
      Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
    return { cpuMs: (ticks * 1000) / CLK_TCK, rss: kb("VmRSS"), hwm: kb("VmHWM") };
  }
}
