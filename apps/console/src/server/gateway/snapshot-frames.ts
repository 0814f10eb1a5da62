import { encodeConsoleMessage, type Snapshot } from "@fulcrum/protocol";

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

  constructor(private readonly load: (clusterId: string) => Promise<Snapshot>) {}

  get(clusterId: string): Promise<SnapshotFrame> {
    let entry = this.cache.get(clusterId);
    if (!entry) {
      entry = this.load(clusterId).then((snapshot) => ({
        hash: snapshot.hash,
        version: snapshot.version,
        frame: encodeConsoleMessage("snapshot", { snapshot }),
      }));
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
