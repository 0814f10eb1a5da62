import { chmod, lstat, mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { errorMessage, StateStoreError } from "../errors";
import type { Logger } from "../log";

/** Group and other permission bits: a state dir holds the agent's credential, so it is ours alone. */
const SHARED_BITS = 0o077;

/**
 * Creates the state dir (0700), or checks an existing one: it must be a
 * directory owned by the user the agent runs as (else refused: someone else
 * could read the credential or plant a snapshot); group/other access is
 * taken away (0700) with a warning.
 */
export async function ensureStateDir(dir: string, log?: Logger): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new StateStoreError(`cannot create state dir ${dir}: ${errorMessage(e)}`, { cause: e });
  }
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    // lstat: a symlink swapped in by someone else would be followed by every later open.
    st = await lstat(dir);
  } catch (e) {
    throw new StateStoreError(`cannot inspect state dir ${dir}: ${errorMessage(e)}`, { cause: e });
  }
  if (st.isSymbolicLink()) {
    // An operator's symlink is fine if what it points to passes the same checks.
    st = await stat(dir).catch((e) => {
      throw new StateStoreError(`state dir ${dir} is a broken symlink: ${errorMessage(e)}`, { cause: e });
    });
  }
  if (!st.isDirectory()) throw new StateStoreError(`state dir ${dir} is not a directory`);
  const uid = process.geteuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new StateStoreError(
      `state dir ${dir} is owned by uid ${st.uid}, not by this agent's user (uid ${uid}): ` +
        `chown it to that user (and chmod 700), or choose another --state-dir`,
    );
  }
  await tightenFiles(dir, log);
  const mode = Number(st.mode) & 0o777;
  if ((mode & SHARED_BITS) === 0) return;
  try {
    await chmod(dir, 0o700);
  } catch (e) {
    throw new StateStoreError(
      `state dir ${dir} has mode ${mode.toString(8)} and cannot be made private (${errorMessage(e)}): chmod 700 it`,
      { cause: e },
    );
  }
  log?.warn("state dir was accessible to other users; made it private", {
    dir,
    was: mode.toString(8).padStart(4, "0"),
    now: "0700",
  });
}

/** Files an older agent (or an operator's copy) may have left readable by others. */
const PRIVATE_FILES = ["credential.json", "snapshot.json", "tls-material.json"];

async function tightenFiles(dir: string, log: Logger | undefined): Promise<void> {
  for (const name of PRIVATE_FILES) {
    const path = join(dir, name);
    const st = await lstat(path).catch(() => undefined);
    if (!st?.isFile() || (Number(st.mode) & SHARED_BITS) === 0) continue;
    try {
      await chmod(path, 0o600);
    } catch (e) {
      throw new StateStoreError(
        `${path} is readable by other users and cannot be made private (${errorMessage(e)}): chmod 600 it`,
        {
          cause: e,
        },
      );
    }
    log?.warn("state file was accessible to other users; made it private", {
      path,
      was: (Number(st.mode) & 0o777).toString(8).padStart(4, "0"),
      now: "0600",
    });
  }
}
