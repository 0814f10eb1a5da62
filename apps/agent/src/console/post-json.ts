import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { ConsoleTls } from "./console-tls";

/** More than any enrollment answer: a larger body is cut (and fails JSON parsing). */
const MAX_REPLY_BYTES = 64 * 1024;

/**
 * One JSON POST to the console over node:http(s), so the console's CA
 * (--console-ca) applies: global fetch cannot take a CA without undici's
 * dispatcher. Rejects on network and TLS errors; any HTTP status resolves.
 */
export function postJson(
  url: URL,
  body: unknown,
  tls: ConsoleTls,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  const payload = Buffer.from(JSON.stringify(body));
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json",
          "content-length": payload.length,
        },
        timeout: timeoutMs,
        ...(tls.ca === undefined ? {} : { ca: tls.ca }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          if (size < MAX_REPLY_BYTES) chunks.push(c);
          size += c.length;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(payload);
  });
}
