import { CR, LF, latin1, SP } from "./chars";
import {
  CONN_CLOSE,
  CONN_KEEP_ALIVE,
  type ConnectionOptions,
  endsWithChunked,
  F_CONNECTION,
  F_CONTENT_LENGTH,
  F_TRANSFER_ENCODING,
  HeaderFields,
  parseContentLength,
  parseFieldLines,
  readConnection,
} from "./header-lines";
import { BODY_CHUNKED, BODY_LENGTH, BODY_NONE, BODY_UNTIL_CLOSE, type BodyKind } from "./request-head";

export interface ResponseHead {
  readonly buf: Buffer;
  readonly start: number;
  readonly end: number;
  readonly status: number;
  /** Offset of the status code in buf: the client's status line is "HTTP/1.1 " + buf[statusAt, line end). */
  readonly statusAt: number;
  readonly statusLineEnd: number;
  readonly minor: 0 | 1;
  readonly bodyKind: BodyKind;
  readonly contentLength: number;
  /** The backend will close after this response (Connection: close, HTTP/1.0 without keep-alive, until-close body). */
  readonly close: boolean;
  /** When the caller passed its own HeaderFields to reuse: valid until it parses the next head. */
  readonly fields: HeaderFields;
  /** Lower-cased field names listed in Connection: hop-by-hop too. */
  readonly connOthers: string[] | undefined;
}

/**
 * Parses a backend's response head. Framing follows RFC 9112 §6.3: no body
 * for HEAD, 1xx, 204, 304; chunked as the final coding; Content-Length; else
 * until close. A response this proxy could frame differently from the client
 * (CL with TE, bad or repeated CL) is refused so the connection is not reused.
 */
export function parseResponseHead(
  buf: Buffer,
  start: number,
  end: number,
  requestMethod: string,
  fields: HeaderFields = new HeaderFields(buf),
): ResponseHead | undefined {
  // HTTP/1.x SP 3DIGIT SP reason CRLF (the reason may be empty; some servers omit the SP).
  if (
    buf[start] !== 72 ||
    buf[start + 1] !== 84 ||
    buf[start + 2] !== 84 ||
    buf[start + 3] !== 80 ||
    buf[start + 4] !== 47 ||
    buf[start + 5] !== 49 ||
    buf[start + 6] !== 46 ||
    (buf[start + 7] !== 49 && buf[start + 7] !== 48) ||
    buf[start + 8] !== SP
  ) {
    return undefined;
  }
  const minor = buf[start + 7] === 49 ? 1 : 0;
  const statusAt = start + 9;
  let status = 0;
  for (let i = 0; i < 3; i++) {
    const d = buf[statusAt + i]! - 48;
    if (d < 0 || d > 9) return undefined;
    status = status * 10 + d;
  }
  if (status < 100) return undefined;
  let p = statusAt + 3;
  if (buf[p] === SP) {
    p++;
    // reason-phrase: HTAB, SP, VCHAR, obs-text.
    while (p < end && buf[p] !== CR) {
      const c = buf[p]!;
      if ((c < 0x20 && c !== 9) || c === 0x7f) return undefined;
      p++;
    }
  }
  if (buf[p] !== CR || buf[p + 1] !== LF) return undefined;
  const statusLineEnd = p;
  fields.reset(buf);
  if (!parseFieldLines(buf, p + 2, end - 2, fields)) return undefined;

  let cl = -1;
  let te: string | undefined;
  let conn: ConnectionOptions | undefined;
  const { codes } = fields;
  for (let i = 0; i < fields.count; i++) {
    const code = codes[i];
    if (code === F_CONTENT_LENGTH) {
      if (cl !== -1) return undefined;
      cl = parseContentLength(buf, fields.valueStart(i), fields.valueEnd(i));
      if (cl < 0) return undefined;
    } else if (code === F_TRANSFER_ENCODING) {
      te = te === undefined ? fields.value(i) : `${te}, ${fields.value(i)}`;
    } else if (code === F_CONNECTION) {
      conn ??= { flags: 0, others: undefined };
      readConnection(buf, fields.valueStart(i), fields.valueEnd(i), conn);
    }
  }
  if (te !== undefined && cl !== -1) return undefined;

  let bodyKind: BodyKind;
  if (requestMethod === "HEAD" || status < 200 || status === 204 || status === 304) bodyKind = BODY_NONE;
  else if (te !== undefined) bodyKind = endsWithChunked(te) ? BODY_CHUNKED : BODY_UNTIL_CLOSE;
  else if (cl >= 0) bodyKind = cl === 0 ? BODY_NONE : BODY_LENGTH;
  else bodyKind = BODY_UNTIL_CLOSE;

  const flags = conn?.flags ?? 0;
  const close =
    bodyKind === BODY_UNTIL_CLOSE ||
    (minor === 0 ? (flags & CONN_KEEP_ALIVE) === 0 : (flags & CONN_CLOSE) !== 0);
  return {
    buf,
    start,
    end,
    status,
    statusAt,
    statusLineEnd,
    minor,
    fields,
    bodyKind,
    contentLength: Math.max(cl, 0),
    close,
    connOthers: conn?.others,
  };
}

/** For logs and tests. */
export const statusLine = (h: ResponseHead) => latin1(h.buf, h.start, h.statusLineEnd);
