import {
  type CaBundleMaterial,
  encodeConsoleMessage,
  type Snapshot,
  type TlsMaterial,
} from "@fulcrum/protocol";

export interface SnapshotFrame {
  hash: string;
  version: number;
  /** The encoded `snapshot` message, sent as is to every agent of the cluster. */
  frame: string;
}

/**
 * One read and one JSON encoding of a cluster's current snapshot per change,
 * however many agents receive it. Dropped when the cluster changes.
 */
export class SnapshotFrames {
  private readonly cache = new Map<string, Promise<SnapshotFrame>>();

  /**
   * `material` decrypts the keys of the snapshot's certificates (issue 16); they
   * go only into this frame, next to the snapshot, and are never logged.
   */
  constructor(
    private readonly load: (clusterId: string) => Promise<Snapshot>,
    private readonly material: (snapshot: Snapshot) => Promise<TlsMaterial[]> = async () => [],
    /** The PEM of the snapshot's CA bundles (TLS to backends), sent beside it like the keys. */
    private readonly bundles: (snapshot: Snapshot) => Promise<CaBundleMaterial[]> = async () => [],
  ) {}

  get(clusterId: string): Promise<SnapshotFrame> {
    let entry = this.cache.get(clusterId);
    if (!entry) {
      entry = this.load(clusterId).then(async (snapshot) => {
        const tlsMaterial = (snapshot.certificates ?? []).length > 0 ? await this.material(snapshot) : [];
        const caBundles = (snapshot.caBundles ?? []).length > 0 ? await this.bundles(snapshot) : [];
        return {
          hash: snapshot.hash,
          version: snapshot.version,
          frame: encodeConsoleMessage("snapshot", {
            snapshot,
            ...(tlsMaterial.length > 0 ? { tlsMaterial } : {}),
            ...(caBundles.length > 0 ? { caBundles } : {}),
          }),
        };
      });
      // A failed load must not stick.
      entry.catch(() => this.cache.delete(clusterId));
      this.cache.set(clusterId, entry);
    }
    return entry;
  }

  invalidate(clusterId: string): void {
    this.cache.delete(clusterId);
  }
}
