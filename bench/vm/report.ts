import type { Machine } from "../proxy/machine";
import { f, mib } from "../proxy/report";
import type { GuestResult } from "./guest/plan";
import type { VmOptions } from "./options";

export interface VmResults {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly command: string;
  readonly options: VmOptions;
  readonly machine: Pick<Machine, "nproc" | "cpuModel" | "memoryGiB" | "kernel" | "node"> & {
    readonly qemu: string;
  };
  readonly vm: {
    readonly accel: "tcg";
    readonly kernelPackage: string;
    readonly memoryMiB: number;
    readonly smp: number;
    /** How the agent ran in the guest. */
    readonly agentRun: string;
    readonly agentSource: string;
    readonly initramfsMiB: number;
    readonly wallSeconds: number;
  };
  readonly methods: Record<string, string>;
  readonly result: GuestResult;
  readonly notes: string[];
}

export function formatVmReport(r: VmResults): string {
  const { idle, guest } = r.result;
  const rows: [string, string][] = [
    ["connections held at the measurement", `${f(idle.heldAtMeasure)} of ${f(idle.target)}`],
    [
      "opened / failed",
      `${f(idle.opened)} / ${f(idle.failed)}${idle.firstError ? ` (${idle.firstError})` : ""}`,
    ],
    ["seconds to open them (guest, TCG)", f(idle.openSeconds, 1)],
    ["agent RSS before", mib(idle.rssBeforeKiB)],
    ["agent RSS with them open", mib(idle.rssAfterKiB)],
    ["agent RSS after closing them", mib(idle.rssAfterCloseKiB)],
    ["bytes per connection", f(idle.bytesPerConnection)],
    ["new request answered while held", idle.stillAnswers ? `yes (${f(idle.answerMs, 1)} ms)` : "NO"],
    ["client processes / source addresses", `${idle.clientProcesses} / ${idle.sourceAddresses.join(", ")}`],
    ["guest kernel", `${guest.kernel} (${r.vm.kernelPackage})`],
    ["guest vCPUs / RAM", `${guest.vcpus} / ${f(guest.memoryMiB)} MiB, fd limit ${f(guest.fdLimit)}`],
    ["guest memory available while held", `${f(guest.memAvailableMiBHeld)} MiB`],
    ["accelerator", `TCG, ${r.machine.qemu.replace(/^QEMU emulator version (\S+).*/, "QEMU $1")}`],
    ["agent", `${r.vm.agentSource}, ${r.vm.agentRun}`],
    [
      "boot / agent start / whole run",
      `${f(guest.bootSeconds)} s / ${f(guest.agentStartSeconds)} s / ${f(r.vm.wallSeconds)} s`,
    ],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const v = Math.max(...rows.map(([, x]) => x.length));
  return [
    `Idle keep-alive connections in a VM — ${r.finishedAt}`,
    `command: ${r.command}`,
    `host: ${r.machine.nproc} cores (${r.machine.cpuModel}), ${r.machine.memoryGiB} GiB, Linux ${r.machine.kernel}, Node ${r.machine.node}`,
    "",
    `| ${"measure".padEnd(w)} | ${"value".padEnd(v)} |`,
    `|${"-".repeat(w + 2)}|${"-".repeat(v + 2)}|`,
    ...rows.map(([k, x]) => `| ${k.padEnd(w)} | ${x.padEnd(v)} |`),
    ...(r.notes.length || r.result.notes.length
      ? ["", ...[...r.notes, ...r.result.notes].map((n) => `note: ${n}`)]
      : []),
  ].join("\n");
}
