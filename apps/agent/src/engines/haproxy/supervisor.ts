import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { errorMessage } from "../../errors";
import type { Logger } from "../../log";
import { backoffDelay, DEFAULT_BACKOFF } from "../../retry/backoff";
import { HaproxyRuntimeError } from "./errors";
import { type ProcInfo, parseShowProc, runtimeCommand } from "./runtime-api";

export interface SupervisorOptions {
  bin: string;
  configPath: string;
  masterSocket: string;
  pidFile: string;
  log: Logger;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const STDERR_TAIL = 4000;
/** A master that ran this long before dying restarts without backoff history. */
const STABLE_MS = 60_000;

/**
 * Runs HAProxy in master-worker mode (`-W -db -S master.sock`) as a child of
 * the agent: starts it, reloads it through the master CLI (the master re-execs
 * and passes the listening sockets to the new worker, so no connection is
 * refused), restarts it with backoff when it dies, and soft-stops it.
 */
export class HaproxySupervisor {
  private child: ChildProcess | undefined;
  private stopping = false;
  private attempt = 0;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private stderrTail = "";
  private exitWaiters: (() => void)[] = [];
  private starting: Promise<void> | undefined;
  /** Called after a crash restart brought HAProxy back. */
  onRestart: (() => void) | undefined;

  constructor(private readonly opts: SupervisorOptions) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  get masterPid(): number | undefined {
    return this.child?.pid;
  }

  start(): Promise<void> {
    // An apply may start HAProxy while a crash restart is pending or running: one start wins.
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    if (this.starting) return this.starting;
    if (this.child) return Promise.resolve();
    this.starting = this.startNow()
      .catch((e) => {
        // The caller NACKs and puts the old config back; no restart loop on a config that cannot start.
        this.abandon();
        throw e;
      })
      .finally(() => {
        this.starting = undefined;
      });
    return this.starting;
  }

  /** Forgets the child (so its exit schedules nothing) and kills it if it still runs. */
  private abandon(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const c = this.child;
    this.child = undefined;
    if (c && c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  }

  private async startNow(): Promise<void> {
    await this.killStale();
    this.stopping = false;
    const { bin, configPath, masterSocket, pidFile, log } = this.opts;
    const child = spawn(
      bin,
      ["-W", "-db", "-f", configPath, "-S", `${masterSocket},mode,600`, "-p", pidFile],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    this.child = child;
    this.startedAt = Date.now();
    const onOutput = (d: Buffer) => {
      const text = d.toString("utf8");
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL);
      for (const line of text.split("\n")) {
        if (!line.trim()) continue;
        if (/\[(ALERT|WARNING)\]/.test(line)) log.warn("haproxy", { line });
        else log.debug("haproxy", { line });
      }
    };
    child.stdout?.on("data", onOutput);
    child.stderr?.on("data", onOutput);
    child.on("error", (e) => log.error("haproxy could not be started", { bin, error: e.message }));
    child.once("exit", (code, signal) => this.exited(child, code, signal));
    await this.waitForWorker(child);
  }

  private async waitForWorker(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null || this.child !== child) {
        throw new HaproxyRuntimeError(`haproxy exited while starting: ${this.stderrTail.trim()}`);
      }
      const proc = await this.showProc().catch(() => undefined);
      if (proc && proc.workers.length > 0) return;
      await sleep(50);
    }
    throw new HaproxyRuntimeError(`haproxy did not start a worker within 15 s: ${this.stderrTail.trim()}`);
  }

  showProc(): Promise<ProcInfo | undefined> {
    return runtimeCommand(this.opts.masterSocket, "show proc", 2000).then(parseShowProc);
  }

  /**
   * Reloads the (already written and checked) configuration. Rejects when the
   * new worker could not start (e.g. a port is taken): the old worker keeps
   * serving the old configuration.
   */
  async reload(): Promise<void> {
    if (!this.child) throw new HaproxyRuntimeError("haproxy is not running");
    const before = await this.showProc();
    if (!before) throw new HaproxyRuntimeError("haproxy master CLI did not answer show proc");
    const tailBefore = this.stderrTail.length;
    await runtimeCommand(this.opts.masterSocket, "reload", 5000).catch(() => "");
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      await sleep(50);
      const now = await this.showProc().catch(() => undefined);
      if (!now || now.reloads <= before.reloads) continue;
      if (now.failed > before.failed) {
        const tail = this.stderrTail.slice(Math.max(0, tailBefore - (STDERR_TAIL - this.stderrTail.length)));
        const alerts = tail
          .split("\n")
          .filter((l) => l.includes("[ALERT]"))
          .join(" ");
        throw new HaproxyRuntimeError(`haproxy reload failed: ${alerts || "see the agent log"}`);
      }
      if (now.workers.length > 0) return;
    }
    throw new HaproxyRuntimeError("haproxy reload did not finish within 20 s");
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    for (const w of this.exitWaiters.splice(0)) w();
    if (this.stopping) return;
    if (Date.now() - this.startedAt > STABLE_MS) this.attempt = 0;
    const delay = backoffDelay(this.attempt++, DEFAULT_BACKOFF);
    this.opts.log.error("haproxy exited; restarting", {
      code,
      signal,
      inMs: delay,
      stderr: this.stderrTail.slice(-500),
    });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping || this.child || this.starting) return;
      this.starting = this.startNow()
        .then(
          () => {
            this.opts.log.info("haproxy restarted");
            this.onRestart?.();
          },
          (e) => {
            this.opts.log.error("haproxy restart failed", { error: errorMessage(e) });
            // A master that never got a worker: kill it, and its exit schedules the next try.
            const c = this.child;
            if (c && c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
          },
        )
        .finally(() => {
          this.starting = undefined;
        });
    }, delay);
  }

  /** A master left behind by an agent that was killed would hold our ports: stop it first. */
  private async killStale(): Promise<void> {
    const pid = Number((await readFile(this.opts.pidFile, "utf8").catch(() => "")).trim());
    if (!Number.isInteger(pid) || pid <= 1 || pid === this.child?.pid) return;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (!cmdline.includes("haproxy") || !cmdline.includes(this.opts.configPath)) return;
    this.opts.log.warn("stopping a stale haproxy left by an earlier agent", { pid });
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      return;
    }
    for (let i = 0; i < 100; i++) {
      await sleep(50);
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
    }
  }

  /** Soft stop (SIGUSR1: workers finish what they serve), SIGTERM after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child) return;
    const gone = new Promise<void>((r) => this.exitWaiters.push(r));
    child.kill("SIGUSR1");
    const timer = setTimeout(() => child.kill("SIGTERM"), graceMs);
    await gone;
    clearTimeout(timer);
  }
}
