import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./support/console";

const git = promisify(execFile);

/** An agent's state directory holds its credential: `git status` must never offer to commit one. */
describe.skipIf(!existsSync(path.join(repoRoot, ".git")))("agent state in a checkout is git-ignored", () => {
  it.each([
    ".fulcrum-agent/credential.json", // the agent's default state directory, and the enroll dialog's
    "my-agent/credential.json", // what the README suggested before
    "anywhere/else/credential.json",
    ".fulcrum/demo-agent/credential.json", // the demo agent's
    "apps/agent/dist/fulcrum-agent.mjs", // pnpm --filter @fulcrum/agent bundle
  ])("%s", async (file) => {
    // check-ignore exits 0 when the path is ignored, 1 when it is not.
    const { stdout } = await git("git", ["check-ignore", "--no-index", "-v", file], { cwd: repoRoot });
    expect(stdout).toContain(file);
  });
});
