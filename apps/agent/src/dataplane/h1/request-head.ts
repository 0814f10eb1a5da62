import { CR, LF, latin1, SP, TARGET, TCHAR } from "./chars";
import {
  CONN_CLOSE,
  CONN_KEEP_ALIVE,
  CONN_UPGRADE,
  type ConnectionOptions,
  endsWithChunked,
  F_CONNECTION,
  F_CONTENT_LENGTH,
  F_HOST,
  F_TRANSFER_ENCODING,
  F_UPGRADE,
  F_X_FORWARDED_FOR,
  HeaderFields,
  parseContentLength,
  parseFieldLines,
  readConnection,
} from "./header-lines";

export const BODY_NONE = 0;
export const BODY_LENGTH = 1;
export const BODY_CHUNKED = 2;
/** Responses only: the body runs until the backend closes. */
export const BODY_UNTIL_CLOSE = 3;
export type BodyKind = 0 | 1 | 2 | 3;

export interface RequestHead {
  readonly buf: Buffer;
  readonly start: number;
  /** Just past the CRLFCRLF. */
  readonly end: number;
  readonly method: string;
  readonly target: string;
  /** 1 for HTTP/1.1, 0 for HTTP/1.0. */
  readonly minor: 0 | 1;
  readonly bodyKind: BodyKind;
  readonly contentLength: number;
  /** The Host field value as sent ("" if absent). */
  readonly host: string;
  /** The client asked to close after this exchange (Connection: close, or HTTP/1.0 without keep-alive). */
  readonly close: boolean;
  /** Connection: upgrade plus an Upgrade field. */
  readonly upgrade: boolean;
  readonly fields: HeaderFields;
  /** Lower-cased field names listed in Connection: hop-by-hop too. */
  readonly connOthers: string[] | undefined;
  /** The X-Forwarded-For values joined with ", " (undefined if none). */
  readonly xff: string | undefined;
}

/**
 * Parses a complete request head (buf[start, end), end just past CRLFCRLF).
 * Returns undefined for anything a strict HTTP/1.1 server must refuse (400),
 * with request smuggling in mind: the framing this proxy infers must be the
 * only one a backend could infer.
 */
export function parseRequestHead(buf: Buffer, start: number, end: number): RequestHead | undefined {
  // request-line = method SP request-target SP HTTP-version CRLF, single spaces only.
  let p = start;
  while (TCHAR[buf[p]!] === 1) p++;
  if (p === start || buf[p] !== SP) return undefined;
  const method = latin1(buf, start, p);
  const ts = ++p;
  while (TARGET[buf[p]!] === 1) p++;
  if (p === ts || buf[p] !== SP) return undefined;
  const target = latin1(buf, ts, p);
  // origin-form or "*" (OPTIONS); absolute-form and authority-form are forward-proxy forms.
  if (target.charCodeAt(0) !== 47 && !(target === "*" && method === "OPTIONS")) return undefined;
  p++;
  if (
    buf[p] !== 72 || // H
    buf[p + 1] !== 84 ||
    buf[p + 2] !== 84 ||
    buf[p + 3] !== 80 ||
    buf[p + 4] !== 47 || // /
    buf[p + 5] !== 49 || // 1
    buf[p + 6] !== 46 || // .
    (buf[p + 7] !== 49 && buf[p + 7] !== 48) ||
    buf[p + 8] !== CR ||
    buf[p + 9] !== LF
  ) {
    return undefined;
  }
  const minor = buf[p + 7] === 49 ? 1 : 0;
  if (method === "CONNECT") return undefined;

  const fields = new HeaderFields(buf);
  if (!parseFieldLines(buf, p + 10, end - 2, fields)) return undefined;

  let cl = -1;
  let te: string | undefined;
  let host: string | undefined;
  let conn: ConnectionOptions | undefined;
  let upgradeField = false;
  let xff: string | undefined;
  const { codes } = fields;
  for (let i = 0; i < fields.count; i++) {
    switch (codes[i]) {
      case F_CONTENT_LENGTH:
        // A duplicate, even an identical one, means two parsers may disagree: refuse.
        if (cl !== -1) return undefined;
        cl = parseContentLength(buf, fields.valueStart(i), fields.valueEnd(i));
        if (cl < 0) return undefined;
        break;
      case F_TRANSFER_ENCODING:
        if (te !== undefined) return undefined;
        te = fields.value(i);
        break;
      case F_HOST:
        if (host !== undefined) return undefined;
        host = fields.value(i);
        break;
      case F_CONNECTION:
        conn ??= { flags: 0, others: undefined };
        readConnection(buf, fields.valueStart(i), fields.valueEnd(i), conn);
        break;
      case F_UPGRADE:
        upgradeField = true;
        break;
      case F_X_FORWARDED_FOR:
        xff = xff === undefined ? fields.value(i) : `${xff}, ${fields.value(i)}`;
        break;
    }
  }
  // RFC 9112 §3.2: a 1.1 request without exactly one Host is a 400.
  if (minor === 1 && host === undefined) return undefined;
  let bodyKind: BodyKind = BODY_NONE;
  if (te !== undefined) {
    // CL with TE is the classic smuggling vector; 1.0 has no chunked coding.
    if (cl !== -1 || minor === 0 || !endsWithChunked(te)) return undefined;
    bodyKind = BODY_CHUNKED;
  } else if (cl > 0) {
    bodyKind = BODY_LENGTH;
  }
  const flags = conn?.flags ?? 0;
  const close = minor === 0 ? (flags & CONN_KEEP_ALIVE) === 0 : (flags & CONN_CLOSE) !== 0;
  return {
    buf,
    start,
    end,
    method,
    target,
    minor,
    fields,
    bodyKind,
    contentLength: Math.max(cl, 0),
    host: host ?? "",
    close,
    upgrade: upgradeField && (flags & CONN_UPGRADE) !== 0,
    connOthers: conn?.others,
    xff,
  };
}
