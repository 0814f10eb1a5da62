import type { IncomingMessage } from "node:http";
import type { ClientProtocol } from "../../http/client-side";
import { TE_CHUNKED, TE_UNSUPPORTED, transferCoding } from "../h1/header-lines";
import { splitAbsoluteForm } from "../h1/request-head";

/**
 * The decisions the h1 front end makes in its parser, made again on a
 * node:http request (llhttp already refuses most malformed framing with 400).
 */

/** The request's origin-form target and the Host it routes on; undefined for a target to refuse (400). */
export function nodeRequestTarget(
  req: IncomingMessage,
): { url: string; host: string | undefined; absolute: boolean } | undefined {
  const url = req.url ?? "/";
  if (url.charCodeAt(0) === 47 || url === "*") return { url, host: req.headers.host, absolute: false };
  // Absolute-form (RFC 9112 §3.2.2): routed on, and forwarded with, its authority as Host.
  const abs = splitAbsoluteForm(url);
  return abs === undefined ? undefined : { url: abs.path, host: abs.authority, absolute: true };
}

/** 0 none or chunked, 501 another transfer coding (as nginx), 400 a malformed list. */
export function transferCodingStatus(req: IncomingMessage): 0 | 400 | 501 {
  const te = req.headers["transfer-encoding"];
  if (te === undefined) return 0;
  const c = transferCoding(te);
  return c === TE_CHUNKED ? 0 : c === TE_UNSUPPORTED ? 501 : 400;
}

/** The Upgrade protocols to forward: the client's minus h2c (backends speak HTTP/1.1 only); undefined when none is left. */
export function upgradeToForward(req: IncomingMessage): string | undefined {
  const v = req.headers.upgrade;
  if (v === undefined) return undefined;
  const kept = v
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t.length > 0 && t.toLowerCase() !== "h2c");
  return kept.length === 0 ? undefined : kept.join(", ");
}

/** HTTP/1.1 clients through node:http. */
export const NODE_HTTP1: ClientProtocol = {
  target: (req) => nodeRequestTarget(req as IncomingMessage),
  transferCodingStatus: (req) => transferCodingStatus(req as IncomingMessage),
  rawHeaders: (req) => req.rawHeaders,
  bodyless: (req) =>
    req.headers["transfer-encoding"] === undefined && (req.headers["content-length"] ?? "0") === "0",
  closesOnRefusal: true,
  reasonPhrase: true,
  forwardsTrailers: false,
  countsConnectionPerRequest: true,
  cut: (res) => res.destroy(),
};
