import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type Snapshot, snapshotSchema } from "@fulcrum/protocol";
import { errorMessage, StateStoreError } from "../errors";
import type { Logger } from "../log";
import { writeFileAtomic } from "./atomic-write";

/** The last snapshot that applied cleanly; served at start before the console answers. */
export class SnapshotStore {
  readonly path: string;

  constructor(
    stateDir: string,
    private readonly log: Logger,
  ) {
    this.path = join(stateDir, "snapshot.json");
  }

  /** undefined when there is none or it is unreadable: a bad file must not stop the agent. */
  async load(): Promise<Snapshot | undefined> {
    let raw: string;
    try {
      raw = await readFile(this.path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
        this.log.warn("cannot read stored snapshot", { path: this.path, error: errorMessage(e) });
      }
      return undefined;
    }
    try {
      return snapshotSchema.parse(JSON.parse(raw));
    } catch (e) {
      this.log.warn("stored snapshot is invalid; ignoring it", { path: this.path, error: errorMessage(e) });
      return undefined;
    }
  }

  async save(snapshot: Snapshot): Promise<void> {
    try {
      await writeFileAtomic(this.path, `${JSON.stringify(snapshot)}\n`, 0o600);
    } catch (e) {
      throw new StateStoreError(`cannot store snapshot at ${this.path}: ${errorMessage(e)}`, { cause: e });
    }
  }
}
