import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { snapshotSchema } from "@fulcrum/protocol";
import { agentSnapshot } from "../proxy/configs";
import { describeMachine } from "../proxy/machine";
import { installExitHandlers, killAll } from "../proxy/processes";
import { writeResultsFile } from "../proxy/results-file";
import { buildAgentTree } from "./agent-tree";
import { ensureAssets } from "./assets";
import type { GuestPlan } from "./guest/plan";
import { GUEST, writeInitramfs } from "./initramfs";
import { parseVmOptions, type VmOptions } from "./options";
import { boot, KERNEL_CMDLINE } from "./qemu";
import { formatVmReport, type VmResults } from "./report";

const log = (s: string) => process.stderr.write(`[idle-vm ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

const AGENT_PORT = 8080;
const BACKEND_PORT = 9000;

function commandLine(argv: string[]): string {
  const args = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(" ");
  return `pnpm --filter @fulcrum/bench idle-vm${args ? ` ${args}` : ""}`;
}

/** bench/proxy's snapshot, with keep-alive and idle timeouts that outlast a slow open. */
function snapshotJson(o: VmOptions): string {
  const snapshot = agentSnapshot([{ protocol: "http", port: AGENT_PORT }], [BACKEND_PORT]) as unknown as {
    listeners: Record<string, unknown>[];
  };
  snapshot.listeners[0]!.settings = {
    maxConnections: Math.max(50_000, o.connections + 1000),
    timeouts: { keepAliveMs: o.keepAliveMs, idleMs: o.keepAliveMs },
  };
  const check = snapshotSchema.safeParse(snapshot);
  if (!check.success) throw new Error(`generated snapshot is invalid: ${check.error.issues[0]?.message}`);
  return `${JSON.stringify(check.data, null, 2)}\n`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2).filter((a) => a !== "--");
  const opts = parseVmOptions(argv);
  installExitHandlers();
  const startedAt = new Date().toISOString();
  const notes: string[] = [];
  const assets = ensureAssets(log);
  log(`kernel ${assets.kernelPackage}, ${assets.qemuVersion}`);

  const dir = mkdtempSync(join(tmpdir(), "fulcrum-idle-vm-"));
  log(`work dir ${dir}`);
  const agent = buildAgentTree(join(dir, "agent"), opts.agentRev, log);
  const plan: GuestPlan = {
    connections: opts.connections,
    perProcess: opts.perProcess,
    batch: opts.batch,
    openDeadlineMs: opts.timeoutMin * 60_000,
    agentPort: AGENT_PORT,
    backendPort: BACKEND_PORT,
    agentBin: `${GUEST.agentDir}/bin/fulcrum-agent.js`,
    snapshotFile: GUEST.snapshot,
    backendScript: GUEST.backend,
  };
  const initramfs = join(dir, "initramfs.cpio.gz");
  await writeInitramfs(initramfs, {
    busybox: assets.busybox,
    agentDir: agent.dir,
    snapshotJson: snapshotJson(opts),
    plan,
  });
  const initramfsMiB = statSync(initramfs).size / 2 ** 20;
  log(`initramfs ${initramfsMiB.toFixed(0)} MiB; booting (TCG, ${opts.smp} vCPUs, ${opts.memoryMiB} MiB)`);

  const t0 = Date.now();
  const consoleLog = join(dir, "console.log");
  const result = await boot(
    {
      qemu: assets.qemu,
      vmlinuz: assets.vmlinuz,
      initramfs,
      memoryMiB: opts.memoryMiB,
      smp: opts.smp,
      timeoutMs: opts.timeoutMin * 60_000,
      consoleLog,
    },
    log,
  ).catch((e: unknown) => {
    // Only the console log is worth keeping from a failed run.
    rmSync(agent.dir, { recursive: true, force: true });
    rmSync(initramfs, { force: true });
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n(serial console: ${consoleLog})`);
  });
  const wallSeconds = (Date.now() - t0) / 1000;
  const { idle } = result;
  if (idle.heldAtMeasure < idle.target) {
    notes.push(
      `${idle.target - idle.heldAtMeasure} connections were not held at the measurement (${idle.failed} failed to open${idle.firstError ? `: ${idle.firstError}` : ""}; the rest closed after opening)`,
    );
  }

  const m = describeMachine();
  const report: VmResults = {
    startedAt,
    finishedAt: new Date().toISOString(),
    command: commandLine(argv),
    options: opts,
    machine: {
      nproc: m.nproc,
      cpuModel: m.cpuModel,
      memoryGiB: m.memoryGiB,
      kernel: m.kernel,
      node: m.node,
      qemu: assets.qemuVersion,
    },
    vm: {
      accel: "tcg",
      kernelPackage: assets.kernelPackage,
      memoryMiB: opts.memoryMiB,
      smp: opts.smp,
      agentRun: "node bin/fulcrum-agent.js through tsx, as on the host (pnpm deploy --prod --legacy)",
      agentSource: agent.source,
      initramfsMiB: Math.round(initramfsMiB),
      wallSeconds,
    },
    methods: {
      "idle connections": `as bench/proxy: fresh agent, one http listener (agentSnapshot, settings.timeouts.keepAliveMs and idleMs ${opts.keepAliveMs} ms); client child processes (bench/proxy/idle.ts) open keep-alive connections in batches from 127.0.0.x source addresses, each sends one GET, reads the response and stays open; RSS from /proc/PID/status VmRSS before, 2 s after the last opened, and 3 s after closing; a new request must be answered; connections still open are counted at the measurement`,
      guest: `QEMU TCG (no KVM), ${opts.smp} vCPUs, ${opts.memoryMiB} MiB; Debian kernel ${assets.kernelPackage} (${KERNEL_CMDLINE}); userland in an initramfs: static busybox, the host's node binary and libraries, the agent; loopback only; ulimit -n 200000, ip_local_port_range 1024-65535, somaxconn 65535`,
      backend: "node:http in the guest, 200 with a 100-byte body, keep-alive",
    },
    result,
    notes,
  };
  process.stdout.write(`\n${formatVmReport(report)}\n`);

  const outFile = writeResultsFile(report, startedAt, "idle-vm-", opts.out);
  log(`results written to ${outFile}`);
  rmSync(dir, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    log(`failed: ${e instanceof Error ? e.message : String(e)}`);
    killAll();
    process.exit(1);
  },
);
