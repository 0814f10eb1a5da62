import { encodeConsoleMessage, type Snapshot, type TlsMaterial } from "@fulcrum/protocol";

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
  ) {}

  get(clusterId: string): Promise<SnapshotFrame> {
    let entry = this.cache.get(clusterId);
    if (!entry) {
      entry = this.load(clusterId).then(async (snapshot) => {
        const tlsMaterial = (snapshot.certificates ?? []).length > 0 ? await this.material(snapshot) : [];
        return {
          hash: snapshot.hash,
          version: snapshot.version,
          frame: encodeConsoleMessage(
            "snapshot",
            tlsMaterial.length > 0 ? { snapshot, tlsMaterial } : { snapshot },
          ),
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
