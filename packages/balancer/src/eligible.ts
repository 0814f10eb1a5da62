import type { BackendView } from "./types";

const serves = (b: BackendView) => b.state === "enabled" && b.healthy;

/**
 * Backends that may take new requests. Backups stand in only when no primary
 * can serve, so a single healthy primary keeps backups idle.
 */
export function eligible<B extends BackendView>(backends: readonly B[]): B[] {
  const primaries = backends.filter((b) => !b.backup && serves(b));
  if (primaries.length > 0) return primaries;
  return backends.filter((b) => b.backup && serves(b));
}
