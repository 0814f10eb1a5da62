/**
 * The agent with only its production dependency closure, as a self-contained directory
 * for the guest (the workspace's node_modules is 1 GB of links into the pnpm store).
 * `pnpm deploy --legacy` copies apps/agent and its workspace packages (raw .ts) and
 * installs their dependencies, tsx included, so the guest runs the same bin as the host.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, realpathSync, rmSync } from "node:fs";
import { join } from "node:path";
import { which } from "../proxy/processes";
import { REPO_ROOT, useAgentRevision } from "../proxy/targets";

export interface AgentTree {
  readonly dir: string;
  /** The commit of --agent-rev, else the working tree and its HEAD. */
  readonly source: string;
}

function pnpmCommand(): { cmd: string; pre: string[] } {
  const viaPnpm = process.env.npm_execpath;
  // The pnpm running this script (a .cjs, or a standalone binary), else the one on PATH.
  if (viaPnpm && /pnpm/.test(viaPnpm)) {
    return /\.[cm]?js$/.test(viaPnpm) ? { cmd: process.execPath, pre: [viaPnpm] } : { cmd: viaPnpm, pre: [] };
  }
  const found = which("pnpm");
  if (!found) throw new Error("pnpm is not on PATH: run this through `pnpm --filter @fulcrum/bench idle-vm`");
  return { cmd: found, pre: [] };
}

/** "working tree at <HEAD>", with how many files under apps/agent and packages/ differ from it. */
function workingTreeSource(): string {
  const git = (args: string[]) => spawnSync("git", args, { cwd: REPO_ROOT, encoding: "utf8" }).stdout.trim();
  const head = git(["rev-parse", "--short", "HEAD"]);
  const dirty = git(["status", "--porcelain", "--", "apps/agent", "packages"])
    .split("\n")
    .filter(Boolean).length;
  return `working tree at ${head}${dirty ? ` (+${dirty} changed files)` : ""}`;
}

/** The workspace packages the deployed agent resolves, by name, to their copied directories. */
function workspacePackageDirs(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of ["protocol", "balancer"]) {
    const link = join(dir, "node_modules/@fulcrum", name);
    if (existsSync(link)) out.set(name, realpathSync(link));
  }
  return out;
}

/**
 * Deploys the working tree's agent into `dir`; with `rev`, its sources (apps/agent and
 * packages/*, from git archive through useAgentRevision) then replace the copied ones.
 * Dependencies stay the working tree's: a revision that needs others fails to start in the guest.
 */
export function buildAgentTree(dir: string, rev: string | undefined, log: (s: string) => void): AgentTree {
  rmSync(dir, { recursive: true, force: true });
  const { cmd, pre } = pnpmCommand();
  log("pnpm deploy --prod --legacy @fulcrum/agent (its production dependencies only)");
  const r = spawnSync(
    cmd,
    [...pre, "--filter", "@fulcrum/agent", "deploy", "--prod", "--legacy", "--prefer-offline", dir],
    { cwd: REPO_ROOT, encoding: "utf8", timeout: 300_000 },
  );
  if (r.status !== 0 || !existsSync(join(dir, "bin/fulcrum-agent.js"))) {
    throw new Error(
      `pnpm deploy of @fulcrum/agent failed (status ${r.status}); it needs the pnpm store or the npm registry:\n${`${r.stdout}${r.stderr}`.trim().split("\n").slice(-15).join("\n")}`,
    );
  }
  if (!rev) return { dir, source: workingTreeSource() };

  const revDir = `${dir}-rev`;
  rmSync(revDir, { recursive: true, force: true });
  const commit = useAgentRevision(rev, revDir);
  log(`agent sources at ${commit} (git archive) over the deployed tree`);
  for (const part of ["src", "bin", "package.json"]) {
    rmSync(join(dir, part), { recursive: true, force: true });
    cpSync(join(revDir, "apps/agent", part), join(dir, part), { recursive: true });
  }
  for (const [name, pkgDir] of workspacePackageDirs(dir)) {
    const from = join(revDir, "packages", name, "src");
    if (!existsSync(from)) continue;
    rmSync(join(pkgDir, "src"), { recursive: true, force: true });
    cpSync(from, join(pkgDir, "src"), { recursive: true });
  }
  rmSync(revDir, { recursive: true, force: true });
  return { dir, source: commit };
}
