import type { IncomingMessage, ServerResponse } from "node:http";
import { enrollRequestSchema } from "@fulcrum/protocol";
import { enrollAgent } from "../domain/agents";
import { InvalidInputError } from "../errors";
import type { Services } from "../services";
import { readJsonBody, sendError, sendJson } from "./respond";

/** POST /api/agents/enroll: an agent trades its enrollment token for its own credential. */
export async function handleEnroll(
  services: Services,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method !== "POST") {
    sendJson(res, 405, { error: { code: "METHOD_NOT_ALLOWED", message: "use POST" } });
    return;
  }
  try {
    const parsed = enrollRequestSchema.safeParse(await readJsonBody(req, 16 * 1024));
    if (!parsed.success)
      throw new InvalidInputError(`invalid enrollment request: ${parsed.error.issues[0]?.message}`);
    sendJson(res, 200, await enrollAgent(services.prisma, parsed.data));
  } catch (err) {
    sendError(services, res, err);
  }
}
