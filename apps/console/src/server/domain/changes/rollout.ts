import type { Services } from "../../services";
import type { Rollout } from "./types";

/** How far a config version got through a cluster's agents (ACK / NACK per agent). */
export async function rolloutOf(
  _deps: Pick<Services, "prisma" | "gateway">,
  _clusterId: string,
  _version: number,
): Promise<Rollout> {
  throw new Error("change.rollout: not implemented yet");
}
