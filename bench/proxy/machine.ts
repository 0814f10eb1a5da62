import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, totalmem } from "node:os";
import { which } from "./processes";

/** apt package per tool the harness needs. */
const PACKAGES: Record<string, string> = { nginx: "nginx", haproxy: "haproxy", wrk: "wrk", hey: "hey" };

/**
 * Installs missing tools from apt (as root). Returns the tools still missing; hey is
 * optional (the CPU figure then falls back to a wrk run, and says so).
 */
export function ensureTools(tools: readonly string[], log: (s: string) => void): string[] {
  const missing = tools.filter((t) => !which(t));
  if (missing.length === 0) return [];
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) {
    log(
      `missing ${missing.join(", ")} and not root: install with apt-get install -y ${missing.map((t) => PACKAGES[t]).join(" ")}`,
    );
    return missing;
  }
  const pkgs = missing.map((t) => PACKAGES[t]!);
  log(`installing from apt: ${pkgs.join(" ")}`);
  const apt = (args: string[]) =>
    spawnSync("apt-get", args, {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      timeout: 300_000,
    }).status === 0;
  if (!apt(["install", "-y", "-q", ...pkgs])) {
    apt(["update", "-q"]);
    for (const p of pkgs) apt(["install", "-y", "-q", p]);
  }
  return missing.filter((t) => !which(t));
}

function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 5000 });
  return `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n")[0] ?? "";
}

function debVersion(pkg: string): string {
  try {
    return execFileSync("dpkg-query", ["-W", `-f=${"$"}{Version}`, pkg], { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

export interface Machine {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  nginx: string;
  haproxy: string;
  wrk: string;
  hey: string;
}

export function describeMachine(): Machine {
  let cpuModel = "unknown";
  try {
    cpuModel =
      /^model name\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? cpuModel;
  } catch {}
  return {
    nproc: availableParallelism(),
    cpuModel,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: firstLine("uname", ["-r"]),
    node: process.version,
    nginx: firstLine("nginx", ["-v"]).replace(/^nginx version:\s*/, ""),
    haproxy: firstLine("haproxy", ["-v"]).replace(/ - https?:.*$/, ""),
    wrk: firstLine("wrk", ["-v"]).replace(/ Copyright.*$/, ""),
    hey: which("hey") ? `hey ${debVersion("hey")} (apt)` : "not installed",
  };
}
