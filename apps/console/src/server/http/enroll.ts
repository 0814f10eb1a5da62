import type { ServerResponse } from "node:http";
import { enrollRequestSchema } from "@fulcrum/protocol";
import { enrollAgent } from "../domain/agents";
import { InvalidInputError } from "../errors";
import type { Services } from "../services";
import { sendError, sendJson } from "./respond";

/** POST /api/agents/enroll: an agent trades its enrollment token for its own credential. */
export async function handleEnroll(
  services: Services,
  res: ServerResponse,
  /** Read by the edge, within the anonymous body limit. */
  body: string,
  requestId: string,
): Promise<void> {
  try {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw new InvalidInputError("request body is not valid JSON");
    }
    const parsed = enrollRequestSchema.safeParse(json);
    if (!parsed.success)
      throw new InvalidInputError(`invalid enrollment request: ${parsed.error.issues[0]?.message}`);
    sendJson(res, 200, await enrollAgent(services.prisma, parsed.data));
  } catch (err) {
    sendError(services, res, err, requestId);
  }
}
