import type { Snapshot, SnapshotBackend, SnapshotPool } from "@fulcrum/protocol";
import { backendName, serverName } from "./names";
import { serverWeight } from "./render-config";

/** An empty server-state file: HAProxy reads it without complaint and restores nothing. */
export const EMPTY_SERVER_STATE = "1\n";

function index(s: Snapshot): Map<string, { pool: SnapshotPool; backend: SnapshotBackend }> {
  const out = new Map<string, { pool: SnapshotPool; backend: SnapshotBackend }>();
  for (const pool of s.pools) {
    for (const backend of pool.backends)
      out.set(`${backendName(pool.id)}/${serverName(backend.id)}`, { pool, backend });
  }
  return out;
}

/**
 * The part of `show servers state` (taken from the worker serving `from`)
 * that the next worker, serving `to`, may restore: health (a down server
 * stays down across a reload instead of taking traffic until its first
 * check), plus weight and admin state. Only servers whose address, port,
 * weight, state and pool health check are unchanged are carried; the others
 * start from the new config.
 */
export function carryServerState(dump: string, from: Snapshot, to: Snapshot): string {
  const lines = dump.split("\n");
  const header = lines.slice(0, 2);
  if (header[0]?.trim() !== "1" || !header[1]?.startsWith("# ")) return EMPTY_SERVER_STATE;
  const fields = header[1].slice(2).split(" ");
  const at = (name: string) => fields.indexOf(name);
  const [be, srv, addr, port] = [at("be_name"), at("srv_name"), at("srv_addr"), at("srv_port")];
  if (be < 0 || srv < 0 || addr < 0 || port < 0) return EMPTY_SERVER_STATE;
  const before = index(from);
  const after = index(to);
  const kept = lines.slice(2).filter((line) => {
    const f = line.split(" ");
    if (f.length < fields.length) return false;
    const key = `${f[be]}/${f[srv]}`;
    const old = before.get(key);
    const now = after.get(key);
    if (!old || !now) return false;
    const b = now.backend;
    return (
      f[addr] === b.address &&
      f[port] === String(b.port) &&
      old.backend.address === b.address &&
      old.backend.port === b.port &&
      old.backend.state === b.state &&
      serverWeight(old.pool, old.backend) === serverWeight(now.pool, b) &&
      JSON.stringify(old.pool.healthCheck) === JSON.stringify(now.pool.healthCheck)
    );
  });
  return `${[...header, ...kept].join("\n")}\n`;
}
