/**
 * The guest's whole userland as one initramfs: busybox, the host's node with the shared
 * libraries it loads, the deployed agent, the harness files it runs and the plan.
 * The kernel unpacks it into RAM, so no block device or module is needed.
 */
import { execFileSync } from "node:child_process";
import { realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Entry, treeEntries, writeCpioGz } from "./cpio";
import type { GuestPlan } from "./guest/plan";

const BENCH = resolve(import.meta.dirname, "..");

/** The files of bench/ that run in the guest (the harness imports nothing else at run time). */
const HARNESS_FILES = [
  "proxy/idle.ts",
  "proxy/idle-measure.ts",
  "proxy/idle-client.ts",
  "proxy/processes.ts",
  "proxy/http-check.ts",
  "vm/guest/plan.ts",
  "vm/guest/measure.ts",
  "vm/guest/backend.ts",
];

/** node and what `ldd` says it loads, the dynamic loader included, at the same paths. */
function nodeEntries(): Entry[] {
  const node = realpathSync(process.execPath);
  const libs = execFileSync("ldd", [node], { encoding: "utf8" })
    .split("\n")
    .map((l) => /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(l)?.[1])
    .filter((p): p is string => p !== undefined);
  if (!libs.some((l) => l.includes("ld-linux"))) throw new Error(`ldd ${node} lists no dynamic loader`);
  return [
    { kind: "file", path: "/usr/bin/node", from: node, mode: 0o755 },
    ...libs.map((l): Entry => ({ kind: "file", path: l, from: realpathSync(l), mode: 0o755 })),
  ];
}

export interface InitramfsInput {
  readonly busybox: string;
  readonly agentDir: string;
  readonly snapshotJson: string;
  readonly plan: GuestPlan;
}

export const GUEST = {
  agentDir: "/fulcrum/agent",
  snapshot: "/fulcrum/snapshot.json",
  plan: "/fulcrum/plan.json",
  backend: "/fulcrum/bench/vm/guest/backend.ts",
} as const;

/** Writes the gzip'd initramfs; returns the bytes of file content in it. */
export function writeInitramfs(file: string, input: InitramfsInput): Promise<number> {
  const entries: Entry[] = [
    { kind: "file", path: "/init", from: join(BENCH, "vm/guest/init.sh"), mode: 0o755 },
    { kind: "file", path: "/bin/busybox", from: input.busybox, mode: 0o755 },
    ...nodeEntries(),
    ...treeEntries(input.agentDir, GUEST.agentDir),
    // The .ts files are ES modules, as in bench/package.json.
    { kind: "data", path: "/fulcrum/bench/package.json", data: '{ "type": "module" }\n' },
    ...HARNESS_FILES.map((f): Entry => ({ kind: "file", path: `/fulcrum/bench/${f}`, from: join(BENCH, f) })),
    { kind: "data", path: GUEST.snapshot, data: input.snapshotJson },
    { kind: "data", path: GUEST.plan, data: `${JSON.stringify(input.plan, null, 2)}\n` },
  ];
  return writeCpioGz(file, entries);
}
