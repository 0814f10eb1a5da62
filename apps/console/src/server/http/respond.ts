import type { IncomingMessage, ServerResponse } from "node:http";
import { AppError, httpStatusOf, InvalidInputError } from "../errors";
import type { Services } from "../services";

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** AppErrors map to their HTTP status; anything else is logged and hidden behind a 500. */
export function sendError(services: Services, res: ServerResponse, err: unknown): void {
  if (err instanceof AppError) {
    sendJson(res, httpStatusOf[err.code], { error: { code: err.code, message: err.message } });
    return;
  }
  services.log.error("request failed", { err });
  sendJson(res, 500, { error: { code: "INTERNAL", message: "internal error" } });
}

export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new InvalidInputError("request body too large");
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new InvalidInputError("request body is not valid JSON");
  }
}
