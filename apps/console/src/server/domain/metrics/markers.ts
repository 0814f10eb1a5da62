import type { Services } from "../../services";
import { getCluster } from "../topology/clusters";

/** Markers of one kind read per request at most (the newest). */
export const MAX_MARKERS = 2000;

export interface ConfigMarker {
  t: number;
  kind: "config" | "ack" | "nack";
  version: number;
  author?: string;
  agentName?: string;
  reason?: string;
}

/** Config versions and agents' ACKs and NACKs in [from, to] (epoch ms), oldest first: the graphs' dashed lines. */
export async function configMarkers(
  deps: Pick<Services, "prisma">,
  input: { clusterId: string; from: number; to: number },
): Promise<ConfigMarker[]> {
  const { prisma } = deps;
  await getCluster(deps, input.clusterId);
  const between = { gte: new Date(input.from), lte: new Date(input.to) };
  const [versions, events] = await Promise.all([
    prisma.configVersion.findMany({
      where: { clusterId: input.clusterId, createdAt: between },
      select: { version: true, authorName: true, createdAt: true },
      orderBy: { createdAt: "desc" },
      take: MAX_MARKERS,
    }),
    prisma.agentConfigEvent.findMany({
      where: { clusterId: input.clusterId, at: between },
      orderBy: { at: "desc" },
      take: MAX_MARKERS,
    }),
  ]);
  const markers: ConfigMarker[] = [
    ...versions.map((v) => ({
      t: v.createdAt.getTime(),
      kind: "config" as const,
      version: v.version,
      author: v.authorName,
    })),
    ...events.map((e) => ({
      t: e.at.getTime(),
      kind: e.kind === "nack" ? ("nack" as const) : ("ack" as const),
      version: e.version,
      agentName: e.agentName,
      ...(e.reason ? { reason: e.reason } : {}),
    })),
  ];
  return markers.sort((a, b) => a.t - b.t || a.version - b.version);
}
