import { type ChildProcess, fork } from "node:child_process";
import { join } from "node:path";
import type { IdleCommand, IdleReply } from "./idle-client";
import { adopt } from "./processes";

export interface IdleResult {
  readonly target: number;
  readonly opened: number;
  /** Still open when the agent's memory was read. */
  heldAtMeasure: number;
  readonly failed: number;
  readonly openSeconds: number;
  readonly sourceAddresses: readonly string[];
  readonly clientProcesses: number;
  readonly firstError?: string;
}

/** Source addresses so that no one address needs more than `perAddress` local ports. */
export function sourceAddresses(count: number, perAddress = 12_000): string[] {
  const n = Math.max(1, Math.ceil(count / perAddress));
  return Array.from({ length: n }, (_, i) => `127.0.0.${i + 2}`);
}

function ask(child: ChildProcess, msg: IdleCommand, kind: IdleReply["kind"]): Promise<IdleReply> {
  return new Promise((resolve, reject) => {
    const onMsg = (r: IdleReply) => {
      if (r.kind !== kind) return;
      child.off("message", onMsg);
      child.off("exit", onExit);
      resolve(r);
    };
    const onExit = (code: number | null) => reject(new Error(`idle client exited (${code})`));
    child.on("message", onMsg);
    child.once("exit", onExit);
    child.send(msg);
  });
}

/**
 * Idle keep-alive connections held by child processes, `perProcess` each (every
 * process has its own open-file limit), from several 127.0.0.x source addresses
 * so that no address runs out of local ports.
 */
export class IdleConnections {
  private readonly clients: ChildProcess[] = [];

  async openAll(
    port: number,
    count: number,
    perProcess: number,
    batch = 500,
    deadlineMs = 120_000,
  ): Promise<IdleResult> {
    const addresses = sourceAddresses(count);
    const n = Math.max(1, Math.ceil(count / perProcess));
    const t0 = Date.now();
    const replies: IdleReply[] = [];
    // One client process at a time, so the agent sees a steady stream of batches.
    for (let i = 0; i < n; i++) {
      const child = fork(join(import.meta.dirname, "idle-client.ts"), [], {
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      adopt(child);
      this.clients.push(child);
      const share = Math.min(perProcess, count - i * perProcess);
      replies.push(
        await ask(
          child,
          {
            cmd: "open",
            port,
            count: share,
            addresses,
            batch,
            deadlineMs: Math.max(1000, deadlineMs - (Date.now() - t0)),
          },
          "opened",
        ),
      );
    }
    const opened = replies.reduce((s, r) => s + (r.kind === "opened" ? r.opened : 0), 0);
    const failed = replies.reduce((s, r) => s + (r.kind === "opened" ? r.failed : 0), 0);
    const firstError = replies.map((r) => (r.kind === "opened" ? r.firstError : undefined)).find(Boolean);
    return {
      target: count,
      opened,
      heldAtMeasure: opened,
      failed,
      openSeconds: (Date.now() - t0) / 1000,
      sourceAddresses: addresses,
      clientProcesses: n,
      ...(firstError ? { firstError } : {}),
    };
  }

  async countOpen(): Promise<number> {
    let total = 0;
    for (const c of this.clients) {
      const r = await ask(c, { cmd: "count" }, "count");
      if (r.kind === "count") total += r.open;
    }
    return total;
  }

  async closeAll(): Promise<void> {
    await Promise.all(
      this.clients.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once("exit", () => resolve());
            c.send({ cmd: "close" } satisfies IdleCommand);
            setTimeout(() => c.kill("SIGKILL"), 5000).unref();
          }),
      ),
    );
    this.clients.length = 0;
  }
}
