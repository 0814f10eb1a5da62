import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Makes the certs dir hold exactly `files` (path → text): the dir 0700, each
 * file written aside and renamed (0600), so HAProxy never reads half a key;
 * files of certificates and listeners no longer served are removed. Returns
 * what the dir held before, for putting it back when the new config is
 * refused.
 */
export async function syncTlsFiles(
  certDir: string,
  files: ReadonlyMap<string, string>,
): Promise<Map<string, string>> {
  await mkdir(certDir, { recursive: true, mode: 0o700 });
  const before = new Map<string, string>();
  for (const name of await readdir(certDir)) {
    const path = join(certDir, name);
    if (name.endsWith(".tmp")) {
      await rm(path, { force: true });
      continue;
    }
    before.set(path, await readFile(path, "utf8"));
  }
  for (const [path, text] of files) {
    if (before.get(path) === text) continue;
    const tmp = `${path}.tmp`;
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, path);
  }
  for (const path of before.keys()) if (!files.has(path)) await rm(path, { force: true });
  return before;
}
