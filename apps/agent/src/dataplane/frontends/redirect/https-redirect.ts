import { STATUS_CODES } from "node:http";
import { isHostOrIp, isIPv6 } from "@fulcrum/protocol";
import { normalizeHost } from "../../pools/route-table";

/**
 * Where a plain http listener with `redirectToHttps` sends a request: the
 * same host (its port dropped), `port` (left out when 443), and the request
 * target as received (path and query). undefined when the Host is missing or
 * fails the host-name grammar: such a value is never written into a Location.
 */
export function httpsLocation(hostField: string, target: string, port: number): string | undefined {
  const host = normalizeHost(hostField);
  if (host === "" || !isHostOrIp(host)) return undefined;
  const authority = isIPv6(host) ? `[${host}]` : host;
  // "*" (OPTIONS *) names no resource: send the client to the root.
  const path = target.startsWith("/") ? target : "/";
  return `https://${authority}${port === 443 ? "" : `:${port}`}${path}`;
}

/** The redirect as a serialized HTTP/1.1 response, like redirect routes' (redirect.ts). */
export function httpsRedirectResponse(status: 301 | 308, location: string, close: boolean): Buffer {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nlocation: ${location}\r\ncontent-length: 0\r\n`;
  if (close) head += "connection: close\r\n";
  return Buffer.from(`${head}\r\n`, "latin1");
}
