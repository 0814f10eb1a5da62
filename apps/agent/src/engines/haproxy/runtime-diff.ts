import type { Snapshot, SnapshotBackend } from "@fulcrum/protocol";
import { backendName, serverName } from "./names";
import { serverWeight } from "./render-config";

const ADMIN_STATE: Record<SnapshotBackend["state"], string> = {
  enabled: "ready",
  draining: "drain",
  disabled: "maint",
};

/**
 * Runtime API commands that turn `from` into `to` when the two differ only
 * in backend weights and states (the caller compared their structure-only
 * renders). Only changed servers get commands.
 */
export function runtimeChanges(from: Snapshot, to: Snapshot): string[] {
  const out: string[] = [];
  const oldPools = new Map(from.pools.map((p) => [p.id, p]));
  for (const pool of to.pools) {
    const oldPool = oldPools.get(pool.id);
    const oldBackends = new Map((oldPool?.backends ?? []).map((b) => [b.id, b]));
    for (const b of pool.backends) {
      const was = oldBackends.get(b.id);
      const weight = serverWeight(pool, b);
      if (was && oldPool && serverWeight(oldPool, was) === weight && was.state === b.state) continue;
      const server = `${backendName(pool.id)}/${serverName(b.id)}`;
      out.push(`set server ${server} weight ${weight}`);
      out.push(`set server ${server} state ${ADMIN_STATE[b.state]}`);
    }
  }
  return out;
}
