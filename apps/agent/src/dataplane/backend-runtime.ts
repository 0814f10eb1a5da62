import type { Agent } from "node:http";
import type { BackendView } from "@fulcrum/balancer";
import type { SnapshotBackend } from "@fulcrum/protocol";

/** A backend as the data plane sees it: the snapshot entry plus live counters. */
export class BackendRuntime implements BackendView {
  readonly id: string;
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly state: SnapshotBackend["state"];
  readonly backup: boolean;
  /** No health checks yet: every backend counts as healthy. */
  healthy = true;
  inFlight = 0;

  constructor(
    b: SnapshotBackend,
    readonly agent: Agent,
  ) {
    this.id = b.id;
    this.name = b.name;
    this.address = b.address;
    this.port = b.port;
    this.weight = b.weight;
    this.state = b.state;
    this.backup = b.backup;
  }

  /** Counts one request/connection; the returned function is safe to call more than once. */
  begin(): () => void {
    this.inFlight++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inFlight--;
    };
  }
}

export const upstreamKey = (b: { address: string; port: number }) =>
  b.address.includes(":") ? `[${b.address}]:${b.port}` : `${b.address}:${b.port}`;
