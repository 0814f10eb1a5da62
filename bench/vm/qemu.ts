/**
 * Boots the guest under TCG (nested KVM hangs on this host) with the serial console on
 * qemu's stdio, streams its lines to the log and returns the result line's JSON.
 */
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createInterface } from "node:readline";
import { adopt } from "../proxy/processes";
import { ERROR_MARKER, type GuestResult, RESULT_MARKER } from "./guest/plan";

export interface BootOptions {
  readonly qemu: string;
  readonly vmlinuz: string;
  readonly initramfs: string;
  readonly memoryMiB: number;
  readonly smp: number;
  readonly timeoutMs: number;
  /** The whole serial console goes here. */
  readonly consoleLog: string;
}

/** mitigations=off: the guest kernel's syscalls are emulated, their speculation guards only cost time. */
export const KERNEL_CMDLINE = "console=ttyS0 quiet loglevel=4 panic=-1 mitigations=off";

export function qemuArgs(o: BootOptions): string[] {
  return [
    // One TCG thread per vCPU: the clients and the agent run in parallel as on the host.
    ...["-accel", "tcg,thread=multi", "-cpu", "max", "-smp", String(o.smp), "-m", String(o.memoryMiB)],
    ...["-kernel", o.vmlinuz, "-initrd", o.initramfs],
    ...["-append", KERNEL_CMDLINE],
    ...["-nic", "none", "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot"],
  ];
}

/** Kernel lines that explain a failed run, with what to change. */
const TROUBLE: readonly [RegExp, string][] = [
  [/Initramfs unpacking failed/, "the guest RAM cannot hold the unpacked initramfs: raise --memory-mib"],
  [/Out of memory|oom-kill|Killed process/, "the guest ran out of memory: raise --memory-mib"],
  [/Kernel panic/, "the guest kernel panicked: see the serial console log"],
];

export function boot(o: BootOptions, log: (s: string) => void): Promise<GuestResult> {
  const child = spawn(o.qemu, qemuArgs(o), { stdio: ["pipe", "pipe", "pipe"], detached: true });
  adopt(child);
  const consoleLog = createWriteStream(o.consoleLog);
  let result: GuestResult | undefined;
  let guestError: string | undefined;
  const hints = new Set<string>();
  let stderr = "";
  child.stderr!.on("data", (d) => {
    stderr += d;
  });
  createInterface({ input: child.stdout! }).on("line", (raw) => {
    const line = raw.replace(/\r$/, "");
    consoleLog.write(`${line}\n`);
    for (const [re, hint] of TROUBLE) if (re.test(line)) hints.add(hint);
    const at = line.indexOf(RESULT_MARKER);
    const err = line.indexOf(ERROR_MARKER);
    if (at >= 0) {
      try {
        result = JSON.parse(line.slice(at + RESULT_MARKER.length)) as GuestResult;
      } catch (e) {
        guestError = `the result line did not parse (${(e as Error).message}); see ${o.consoleLog}`;
      }
    } else if (err >= 0) {
      guestError ??= line.slice(err + ERROR_MARKER.length);
    } else if (line.trim()) {
      log(`| ${line}`);
    }
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      guestError ??= `the VM did not finish within ${Math.round(o.timeoutMs / 60_000)} min (raise --timeout-min)`;
      child.kill("SIGKILL");
    }, o.timeoutMs);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${o.qemu}: ${e.message}`));
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      consoleLog.end();
      if (result) return resolve(result);
      const why =
        guestError ??
        `qemu exited (${signal ?? code}) without a result: ${stderr.trim() || `see ${o.consoleLog}`}`;
      reject(new Error([why, ...hints].join("; ")));
    });
  });
}
