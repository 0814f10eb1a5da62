import { CR, LF, latin1, SP, TARGET, TCHAR } from "./chars";
import {
  connectionTokens,
  endsWithChunked,
  type HeaderFields,
  parseContentLength,
  parseFieldLines,
} from "./header-lines";

export const BODY_NONE = 0;
export const BODY_LENGTH = 1;
export const BODY_CHUNKED = 2;
/** Responses only: the body runs until the backend closes. */
export const BODY_UNTIL_CLOSE = 3;
export type BodyKind = 0 | 1 | 2 | 3;

export interface RequestHead extends HeaderFields {
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
  /** Lower-cased tokens named in Connection: those fields are hop-by-hop too. */
  readonly connTokens: Set<string> | undefined;
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

  const fields: HeaderFields = { raw: [], lower: [], spans: [] };
  if (!parseFieldLines(buf, p + 10, end - 2, fields)) return undefined;

  let cl = -1;
  let te: string | undefined;
  let host: string | undefined;
  let conn: Set<string> | undefined;
  let upgradeField = false;
  let xff: string | undefined;
  const { raw, lower, spans } = fields;
  for (let i = 0; i < lower.length; i++) {
    const name = lower[i]!;
    const value = raw[2 * i + 1]!;
    switch (name) {
      case "content-length":
        // A duplicate, even an identical one, means two parsers may disagree: refuse.
        if (cl !== -1) return undefined;
        cl = parseContentLength(value);
        if (cl < 0) return undefined;
        break;
      case "transfer-encoding":
        if (te !== undefined) return undefined;
        te = value;
        break;
      case "host":
        if (host !== undefined) return undefined;
        host = value;
        break;
      case "connection":
        conn ??= new Set();
        connectionTokens(value, conn);
        break;
      case "upgrade":
        upgradeField = true;
        break;
      case "x-forwarded-for":
        xff = xff === undefined ? value : `${xff}, ${value}`;
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
  const close = minor === 0 ? !conn?.has("keep-alive") : conn?.has("close") === true;
  return {
    buf,
    start,
    end,
    method,
    target,
    minor,
    raw,
    lower,
    spans,
    bodyKind,
    contentLength: Math.max(cl, 0),
    host: host ?? "",
    close,
    upgrade: upgradeField && conn?.has("upgrade") === true,
    connTokens: conn,
    xff,
  };
}
