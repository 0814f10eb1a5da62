import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

/**
 * Makes the certs dir hold exactly `files` (path → text): the dir and its
 * subdirectories (CA bundles live in `ca/`) 0700, each file written aside and
 * renamed (0600), so HAProxy never reads half a key; files of certificates
 * and listeners no longer served are removed. Returns what the dir held
 * before, for putting it back when the new config is refused.
 */
export async function syncTlsFiles(
  certDir: string,
  files: ReadonlyMap<string, string>,
): Promise<Map<string, string>> {
  await mkdir(certDir, { recursive: true, mode: 0o700 });
  const before = await readTree(certDir);
  for (const dir of new Set([...files.keys()].map(dirname)))
    await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const [path, text] of files) {
    if (before.get(path) === text) continue;
    const tmp = `${path}.tmp`;
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, path);
  }
  for (const path of before.keys()) if (!files.has(path)) await rm(path, { force: true });
  return before;
}

/** Every file under `dir` (path → text), dropping `.tmp` leftovers of an interrupted write. */
async function readTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) for (const [p, t] of await readTree(path)) out.set(p, t);
    else if (e.name.endsWith(".tmp")) await rm(path, { force: true });
    else out.set(path, await readFile(path, "utf8"));
  }
  return out;
}
