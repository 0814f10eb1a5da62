import type { ServerResponse } from "node:http";
import { AppError, httpStatusOf, InternalError } from "../errors";
import type { Services } from "../services";

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/**
 * An AppError as JSON with its HTTP status. `close` ends the connection once
 * the answer is out (Node then never drains the unread rest of the request).
 */
export function sendRefusal(
  res: ServerResponse,
  err: AppError,
  opts: { close?: boolean; headers?: Record<string, string> } = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify({ error: { code: err.code, message: err.message } });
  res.writeHead(httpStatusOf[err.code], {
    ...opts.headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...(opts.close ? { connection: "close" } : {}),
  });
  res.end(text);
}

/** AppErrors map to their HTTP status; anything else is logged under the request id and hidden behind a 500. */
export function sendError(services: Services, res: ServerResponse, err: unknown, requestId: string): void {
  let shown = err;
  if (!(err instanceof AppError)) {
    services.log.error("request failed", { requestId, err });
    shown = new InternalError(requestId);
  }
  sendRefusal(res, shown as AppError);
}
