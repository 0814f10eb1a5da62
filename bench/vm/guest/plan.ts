/** What the host tells the guest (/fulcrum/plan.json) and what the guest prints back. */
import type { IdleReport } from "../../proxy/report";

export interface GuestPlan {
  readonly connections: number;
  /** Connections per client process, as in bench/proxy (each process has its own descriptors). */
  readonly perProcess: number;
  readonly batch: number;
  /** Opening all connections gives up after this long (TCG is slow, the default 2 min is not enough). */
  readonly openDeadlineMs: number;
  readonly agentPort: number;
  readonly backendPort: number;
  readonly agentBin: string;
  readonly snapshotFile: string;
  readonly backendScript: string;
}

export interface GuestInfo {
  readonly kernel: string;
  readonly vcpus: number;
  readonly memoryMiB: number;
  readonly fdLimit: number;
  readonly node: string;
  /** Guest uptime when the harness started: boot plus unpacking the initramfs. */
  readonly bootSeconds: number;
  readonly agentStartSeconds: number;
  /** MemAvailable with every connection open. */
  readonly memAvailableMiBHeld: number;
}

export interface GuestResult {
  readonly idle: IdleReport;
  readonly guest: GuestInfo;
  readonly notes: readonly string[];
}

/** Lines on the serial console that carry a result (JSON after the marker) or an error. */
export const RESULT_MARKER = "FULCRUM-VM-RESULT ";
export const ERROR_MARKER = "FULCRUM-VM-ERROR ";
