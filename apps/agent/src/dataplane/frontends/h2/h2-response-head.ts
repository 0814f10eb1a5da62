/**
 * A backend's HTTP/1.1 response head made fit for an HTTP/2 client. node:http2
 * throws (ERR_HTTP2_STATUS_INVALID, ERR_HTTP2_HEADER_SINGLE_VALUE,
 * ERR_HTTP2_INVALID_CONNECTION_HEADERS) on what an HTTP/1.1 parser lets
 * through, so the head is checked before it is written.
 */

/** The fields node:http2 refuses to send more than once (lib/internal/http2/util.js kSingleValueHeaders). */
const SINGLE_VALUE = new Set([
  "access-control-allow-credentials",
  "access-control-max-age",
  "access-control-request-method",
  "age",
  "authorization",
  "content-encoding",
  "content-language",
  "content-length",
  "content-location",
  "content-md5",
  "content-range",
  "content-type",
  "date",
  "dnt",
  "etag",
  "expires",
  "from",
  "host",
  "if-match",
  "if-modified-since",
  "if-none-match",
  "if-range",
  "if-unmodified-since",
  "last-modified",
  "location",
  "max-forwards",
  "proxy-authorization",
  "range",
  "referer",
  "retry-after",
  "tk",
  "upgrade-insecure-requests",
  "user-agent",
  "x-content-type-options",
]);

/** Connection-specific fields HTTP/2 forbids (RFC 9113 §8.2.2); node:http2 throws on them. */
const CONNECTION_SPECIFIC = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
]);

/**
 * Why the head cannot go to an HTTP/2 client, or undefined; `headers`
 * (name/value pairs) loses its connection-specific fields in place.
 * A status outside 200–599 (an HTTP/1.1 parser accepts any three digits;
 * a final 1xx has no HTTP/2 form) and a single-value field sent twice are
 * both a bad response: 502, as nginx (≥ 1.23) answers "upstream sent
 * duplicate header line" for its unique fields and HAProxy answers a
 * response it cannot convert. Keeping the first value instead would let a
 * backend's ambiguity (two Content-Types, two Locations) be resolved
 * silently by us, differently from an HTTP/1.1 client's reading.
 */
export function badH2ResponseHead(status: number, headers: string[]): string | undefined {
  if (!Number.isInteger(status) || status < 200 || status > 599) return `status ${status}`;
  const seen = new Set<string>();
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    const name = headers[i]!.toLowerCase();
    if (CONNECTION_SPECIFIC.has(name) || (name === "te" && headers[i + 1]!.toLowerCase() !== "trailers")) {
      headers.splice(i, 2);
      continue;
    }
    if (!SINGLE_VALUE.has(name)) continue;
    if (seen.has(name)) return `duplicate ${name}`;
    seen.add(name);
  }
  return undefined;
}

/**
 * Trailers for an HTTP/2 client: the head is already sent, so a single-value
 * field repeated in trailers keeps its first value (a 502 is no longer possible,
 * and resetting a complete body would throw away a good response).
 */
export function h2TrailerObject(list: Record<string, string[]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries(list)) {
    if (name.charCodeAt(0) === 58 || CONNECTION_SPECIFIC.has(name)) continue;
    out[name] = SINGLE_VALUE.has(name) ? values[0]! : values;
  }
  return out;
}
