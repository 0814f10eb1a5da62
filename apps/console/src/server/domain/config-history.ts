import { NotFoundError } from "../errors";
import type { Services } from "../services";
import type { SnapshotBody } from "../snapshot/compile";
import { diffSnapshots, type SnapshotChange } from "../snapshot/diff";

type HistoryDeps = Pick<Services, "prisma">;

/** Versions listed on the Config history page at most (the newest). */
const MAX_LISTED_VERSIONS = 100;

/** A cluster's newest config versions, newest first, without their snapshots. */
export async function listConfigVersions(deps: HistoryDeps, clusterId: string) {
  return deps.prisma.configVersion.findMany({
    where: { clusterId },
    orderBy: { version: "desc" },
    take: MAX_LISTED_VERSIONS,
    select: { id: true, version: true, hash: true, authorName: true, createdAt: true },
  });
}

/** One config version with its whole snapshot. */
export async function getConfigVersion(deps: HistoryDeps, clusterId: string, version: number) {
  const row = await deps.prisma.configVersion.findUnique({
    where: { clusterId_version: { clusterId, version } },
  });
  if (!row) throw new NotFoundError("Config version", String(version));
  return row;
}

/** What a version changed, against the version before it (v1: against an empty cluster). */
export async function diffConfigVersion(
  deps: HistoryDeps,
  clusterId: string,
  version: number,
): Promise<SnapshotChange[]> {
  const rows = await deps.prisma.configVersion.findMany({
    where: { clusterId, version: { in: [version - 1, version] } },
  });
  const after = rows.find((r) => r.version === version);
  if (!after) throw new NotFoundError("Config version", String(version));
  const before = rows.find((r) => r.version === version - 1);
  const empty: SnapshotBody = { listeners: [], pools: [] };
  return diffSnapshots(
    (before?.snapshot as unknown as SnapshotBody) ?? empty,
    after.snapshot as unknown as SnapshotBody,
  );
}
