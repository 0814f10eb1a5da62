import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  type CaBundleMaterial,
  caBundleMaterialSchema,
  type Snapshot,
  snapshotSchema,
  type TlsMaterial,
  tlsMaterialSchema,
} from "@fulcrum/protocol";
import { z } from "zod";
import { errorMessage, StateStoreError } from "../errors";
import type { Logger } from "../log";
import { writeFileAtomic } from "./atomic-write";

/** Beside snapshot.json in the state dir. */
export const TLS_MATERIAL_FILE = "tls-material.json";

/** The PEM of the CA bundles the snapshot's pools verify backends against (public, but kept 0600 like the rest). */
export const CA_BUNDLES_FILE = "ca-bundles.json";

const storedMaterialSchema = z.array(tlsMaterialSchema);
const storedCaBundlesSchema = z.array(caBundleMaterialSchema);

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
  readonly caBundlesPath: string;

  constructor(
    stateDir: string,
    private readonly log: Logger,
  ) {
    this.path = join(stateDir, "snapshot.json");
    this.materialPath = join(stateDir, TLS_MATERIAL_FILE);
    this.caBundlesPath = join(stateDir, CA_BUNDLES_FILE);
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
  loadMaterial(): Promise<TlsMaterial[]> {
    return this.loadList(this.materialPath, storedMaterialSchema, "TLS material");
  }

  /** The CA bundles stored with the snapshot; [] when there are none or they are unreadable (the apply then NACKs). */
  loadCaBundles(): Promise<CaBundleMaterial[]> {
    return this.loadList(this.caBundlesPath, storedCaBundlesSchema, "CA bundles");
  }

  private async loadList<T>(path: string, schema: z.ZodType<T[]>, what: string): Promise<T[]> {
    let raw: string;
    try {
      raw = await readFile(path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
        this.log.warn(`cannot read stored ${what}`, { path, error: errorMessage(e) });
      }
      return [];
    }
    try {
      return schema.parse(JSON.parse(raw));
    } catch (e) {
      this.log.warn(`stored ${what} is invalid; ignoring it`, { path, error: errorMessage(e) });
      return [];
    }
  }

  /** Only the material of certificates the snapshot's listeners and pools use is written; the material first, then the snapshot. */
  async save(
    snapshot: Snapshot,
    tlsMaterial: readonly TlsMaterial[] = [],
    caBundles: readonly CaBundleMaterial[] = [],
  ): Promise<void> {
    const used = new Set([
      ...snapshot.listeners.flatMap((l) => (l.protocol === "http" ? (l.tls?.certificateIds ?? []) : [])),
      ...snapshot.pools.flatMap((p) => (p.tls?.clientCertificateId ? [p.tls.clientCertificateId] : [])),
    ]);
    const kept = tlsMaterial.filter((m) => used.has(m.id));
    const bundleIds = new Set(snapshot.pools.flatMap((p) => (p.tls?.caBundleId ? [p.tls.caBundleId] : [])));
    const keptBundles = caBundles.filter((b) => bundleIds.has(b.id));
    try {
      // Keys no listener uses any more are not kept on disk.
      if (kept.length > 0) await writeFileAtomic(this.materialPath, `${JSON.stringify(kept)}\n`, 0o600);
      else await rm(this.materialPath, { force: true });
      if (keptBundles.length > 0) {
        await writeFileAtomic(this.caBundlesPath, `${JSON.stringify(keptBundles)}\n`, 0o600);
      } else await rm(this.caBundlesPath, { force: true });
      await writeFileAtomic(this.path, `${JSON.stringify(snapshot)}\n`, 0o600);
    } catch (e) {
      throw new StateStoreError(`cannot store snapshot at ${this.path}: ${errorMessage(e)}`, { cause: e });
    }
  }
}
