import type { IncomingMessage, ServerResponse } from "node:http";
import { PayloadTooLargeError } from "../errors";
import { sendRefusal } from "./respond";

function tooLarge(limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`The request body is over this endpoint's limit of ${limit} bytes.`);
}

/**
 * Reads a request body of at most `limit` bytes. A declared Content-Length over
 * the limit is refused before any byte is read; a body that grows past it is
 * refused as soon as the byte that passes it arrives, so no more than `limit`
 * bytes are ever held. Returns undefined when the request was refused (413
 * sent, connection closing) or the client went away.
 */
export function readBodyWithin(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
): Promise<Buffer | undefined> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > limit) {
    sendRefusal(res, tooLarge(limit), { close: true });
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (body: Buffer | undefined) => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onGone);
      req.off("aborted", onGone);
      resolve(body);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        sendRefusal(res, tooLarge(limit), { close: true });
        done(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => done(Buffer.concat(chunks, size));
    const onGone = () => done(undefined);
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onGone);
    req.on("aborted", onGone);
  });
}
