import { mkdir } from "node:fs/promises";
import { errorMessage, StateStoreError } from "../errors";

export async function ensureStateDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new StateStoreError(`cannot create state dir ${dir}: ${errorMessage(e)}`, { cause: e });
  }
}
