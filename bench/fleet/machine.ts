import { readFileSync } from "node:fs";
import os from "node:os";

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  openFilesLimit: string;
}

export function describeMachine(): Machine {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const limits = readFileSync("/proc/self/limits", "utf8");
  const files = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  return {
    cores: os.cpus().length,
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown",
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: os.release(),
    node: process.version,
    openFilesLimit: files ? `${files[1]} soft / ${files[2]} hard` : "unknown",
  };
}
