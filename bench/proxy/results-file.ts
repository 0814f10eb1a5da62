import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { REPO_ROOT } from "./targets";

/**
 * Writes a run's results as JSON to `out`, or to bench/results/<prefix><start time>.json,
 * formatted as biome would (so committed results pass the lint); returns the path.
 * Non-finite numbers (a measurement that did not happen) become null.
 */
export function writeResultsFile(report: unknown, startedAt: string, prefix = "", out?: string): string {
  const file =
    out ?? join(REPO_ROOT, "bench/results", `${prefix}${startedAt.slice(0, 19).replace(/:/g, "-")}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    `${JSON.stringify(report, (_, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2)}\n`,
  );
  const biome = join(REPO_ROOT, "node_modules/.bin/biome");
  if (existsSync(biome)) spawnSync(biome, ["format", "--write", file], { stdio: "ignore" });
  return file;
}
