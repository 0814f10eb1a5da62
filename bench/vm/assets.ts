/**
 * What the VM needs from Debian: qemu (installed), a 6.1 kernel and a static busybox
 * (downloaded as .debs and extracted into the cache, never installed: the host's own
 * kernel and shell stay untouched).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { which } from "../proxy/processes";

export const CACHE_DIR = resolve(import.meta.dirname, "../.cache/vm");

export interface Assets {
  readonly qemu: string;
  readonly qemuVersion: string;
  /** Debian package the kernel came from, e.g. linux-image-6.1.0-57-amd64. */
  readonly kernelPackage: string;
  readonly vmlinuz: string;
  readonly busybox: string;
}

const aptEnv = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };

function apt(cmd: string, args: string[], cwd?: string): boolean {
  const r = spawnSync(cmd, args, {
    cwd,
    stdio: ["ignore", "ignore", "inherit"],
    env: aptEnv,
    timeout: 600_000,
  });
  return r.status === 0;
}

function requireRoot(what: string, fix: string): void {
  if (process.getuid?.() !== 0) throw new Error(`${what} is missing and fetching it needs root: ${fix}`);
}

function ensureQemu(log: (s: string) => void): string {
  const found = which("qemu-system-x86_64");
  if (found) return found;
  requireRoot("qemu-system-x86_64", "apt-get install -y --no-install-recommends qemu-system-x86");
  log("installing qemu-system-x86 from apt");
  const args = ["install", "-y", "-q", "--no-install-recommends", "qemu-system-x86"];
  if (!apt("apt-get", args)) {
    apt("apt-get", ["update", "-q"]);
    apt("apt-get", args);
  }
  const qemu = which("qemu-system-x86_64");
  if (!qemu) throw new Error("qemu-system-x86_64 is still missing after apt-get install qemu-system-x86");
  return qemu;
}

/** The newest plain `linux-image-6.1.0-N-amd64` apt knows (not -rt, -dbg, -unsigned or a meta package). */
function newestKernelPackage(): string | undefined {
  const search = () =>
    execFileSync("apt-cache", ["search", "--names-only", "^linux-image-6\\.1\\.0-[0-9]+-amd64$"], {
      encoding: "utf8",
    })
      .split("\n")
      .map((l) => /^(linux-image-6\.1\.0-(\d+)-amd64)\s/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .sort((a, b) => Number(b[2]) - Number(a[2]))[0]?.[1];
  return search() ?? (apt("apt-get", ["update", "-q"]) ? search() : undefined);
}

/** Downloads one .deb (by exact name: a glob would fetch every match) and extracts it into `into`. */
function extractDeb(pkg: string, into: string, members?: string[]): void {
  const tmp = join(CACHE_DIR, `download-${pkg}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  // apt downloads as its _apt user when that user can write here, and warns otherwise.
  chmodSync(tmp, 0o777);
  if (!apt("apt-get", ["download", "-q", pkg], tmp)) {
    throw new Error(`apt-get download ${pkg} failed (is the Debian mirror reachable? try apt-get update)`);
  }
  const deb = readdirSync(tmp).find((f) => f.endsWith(".deb"));
  if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${tmp}`);
  const part = `${into}.part`;
  rmSync(part, { recursive: true, force: true });
  mkdirSync(part, { recursive: true });
  const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  // Only the members we need (the kernel's modules are 400 MB unpacked).
  const tar = members
    ? `tar -x -C ${q(part)} --wildcards ${members.map(q).join(" ")}`
    : `tar -x -C ${q(part)}`;
  execFileSync("sh", ["-c", `dpkg-deb --fsys-tarfile ${q(join(tmp, deb))} | ${tar}`]);
  rmSync(into, { recursive: true, force: true });
  renameSync(part, into);
  rmSync(tmp, { recursive: true, force: true });
}

function cachedKernel(): string | undefined {
  const dir = join(CACHE_DIR, "kernel");
  if (!existsSync(dir)) return undefined;
  return readdirSync(dir)
    .filter((p) => existsSync(join(dir, p, "boot")))
    .sort((a, b) => Number(/-(\d+)-amd64$/.exec(b)?.[1]) - Number(/-(\d+)-amd64$/.exec(a)?.[1]))[0];
}

function ensureKernel(log: (s: string) => void): { pkg: string; vmlinuz: string } {
  // A cached kernel is reused even when apt knows a newer one: runs stay comparable and offline.
  let pkg = cachedKernel();
  if (!pkg) {
    pkg = newestKernelPackage();
    if (!pkg) throw new Error("apt-cache knows no linux-image-6.1.0-N-amd64 package (run apt-get update)");
    log(`downloading ${pkg} (only its vmlinuz is kept)`);
    extractDeb(pkg, join(CACHE_DIR, "kernel", pkg), ["./boot/vmlinuz-*", "./boot/config-*"]);
  }
  const boot = join(CACHE_DIR, "kernel", pkg, "boot");
  const vmlinuz = readdirSync(boot).find((f) => f.startsWith("vmlinuz-"));
  if (!vmlinuz) throw new Error(`no vmlinuz in ${boot}: delete ${join(CACHE_DIR, "kernel", pkg)} and rerun`);
  return { pkg, vmlinuz: join(boot, vmlinuz) };
}

function ensureBusybox(log: (s: string) => void): string {
  const dir = join(CACHE_DIR, "busybox-static");
  const bin = join(dir, "bin", "busybox");
  if (existsSync(bin)) return bin;
  log("downloading busybox-static");
  extractDeb("busybox-static", dir);
  if (!existsSync(bin)) throw new Error(`busybox-static has no bin/busybox (looked in ${dir})`);
  return bin;
}

export function ensureAssets(log: (s: string) => void): Assets {
  mkdirSync(CACHE_DIR, { recursive: true });
  const qemu = ensureQemu(log);
  const qemuVersion = execFileSync(qemu, ["--version"], { encoding: "utf8" }).split("\n")[0]!.trim();
  const kernel = ensureKernel(log);
  return {
    qemu,
    qemuVersion,
    kernelPackage: kernel.pkg,
    vmlinuz: kernel.vmlinuz,
    busybox: ensureBusybox(log),
  };
}
