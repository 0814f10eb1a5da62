import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { type Snapshot, snapshotSchema, type TlsMaterial, tlsMaterialSchema } from "@fulcrum/protocol";
import { z } from "zod";
import { errorMessage, StateStoreError } from "../errors";
import type { Logger } from "../log";
import { writeFileAtomic } from "./atomic-write";

/** Beside snapshot.json in the state dir. */
export const TLS_MATERIAL_FILE = "tls-material.json";

const storedMaterialSchema = z.array(tlsMaterialSchema);

/**
 * The last snapshot that applied cleanly; served at start before the console
 * answers. The key material its TLS listeners use is kept beside it in
 * tls-material.json (0600 in the 0700 state dir): the snapshot itself never
 * holds keys, and a restarted agent must serve its HTTPS listeners before the
 * console sends them again.
 */
export class SnapshotStore {
  readonly path: string;
  readonly materialPath: string;

  constructor(
    stateDir: string,
    private readonly log: Logger,
  ) {
    this.path = join(stateDir, "snapshot.json");
    this.materialPath = join(stateDir, TLS_MATERIAL_FILE);
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

  /** The material stored with the snapshot; [] when there is none or it is unreadable (the apply then NACKs). */
  async loadMaterial(): Promise<TlsMaterial[]> {
    let raw: string;
    try {
      raw = await readFile(this.materialPath, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
        this.log.warn("cannot read stored TLS material", { path: this.materialPath, error: errorMessage(e) });
      }
      return [];
    }
    try {
      return storedMaterialSchema.parse(JSON.parse(raw));
    } catch (e) {
      this.log.warn("stored TLS material is invalid; ignoring it", {
        path: this.materialPath,
        error: errorMessage(e),
      });
      return [];
    }
  }

  /** Only the material of certificates the snapshot's listeners use is written; the material first, then the snapshot. */
  async save(snapshot: Snapshot, tlsMaterial: readonly TlsMaterial[] = []): Promise<void> {
    const used = new Set(
      snapshot.listeners.flatMap((l) => (l.protocol === "http" ? (l.tls?.certificateIds ?? []) : [])),
    );
    const kept = tlsMaterial.filter((m) => used.has(m.id));
    try {
      // Keys no listener uses any more are not kept on disk.
      if (kept.length > 0) await writeFileAtomic(this.materialPath, `${JSON.stringify(kept)}\n`, 0o600);
      else await rm(this.materialPath, { force: true });
      await writeFileAtomic(this.path, `${JSON.stringify(snapshot)}\n`, 0o600);
    } catch (e) {
      throw new StateStoreError(`cannot store snapshot at ${this.path}: ${errorMessage(e)}`, { cause: e });
    }
  }
}
