import type { Services } from "../../services";
import type { Actor } from "../actor";
import type { ChangeRequest } from "./requests";
import type { ChangePreview } from "./types";

/** Dry-runs a change and estimates its effect (see docs/architecture.md). */
export async function previewChange(
  _deps: Pick<Services, "prisma" | "publisher" | "gateway" | "metrics">,
  _actor: Actor,
  _req: ChangeRequest,
): Promise<ChangePreview> {
  throw new Error("change.preview: not implemented yet");
}
