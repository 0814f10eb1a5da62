import type { Scope } from "./aggregate";

/**
 * The key of one series (cluster, scope, id) in the 1-second ring and in the
 * unwritten minutes. Kept in one place because ingest writes under it and the
 * queries read under it: a difference would read as a series without traffic.
 * NUL separates the parts; ids never contain it (the snapshot's id grammar).
 */
export const seriesKey = (clusterId: string, scope: Scope, id: string) =>
  `${clusterId}\u0000${scope}\u0000${id}`;
