import { AUTHORITY, CR, LF, latin1, SP, TARGET, TCHAR } from "./chars";
import {
  CONN_CLOSE,
  CONN_KEEP_ALIVE,
  CONN_UPGRADE,
  type ConnectionOptions,
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
  TE_CHUNKED,
  TE_UNSUPPORTED,
  transferCoding,
} from "./header-lines";
import { MALFORMED, type Refusal, UNSUPPORTED_CODING } from "./refusal";

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
  /** Origin-form (or "*"): an absolute-form target is reduced to its path and query. */
  readonly target: string;
  /** The request line carried an absolute-form target: the backend gets origin-form and `host` as Host. */
  readonly absolute: boolean;
  /** 1 for HTTP/1.1, 0 for HTTP/1.0. */
  readonly minor: 0 | 1;
  readonly bodyKind: BodyKind;
  readonly contentLength: number;
  /** The Host field value as sent ("" if absent), or an absolute-form target's authority, which replaces it (RFC 9112 §3.2.2). */
  readonly host: string;
  /** The client asked to close after this exchange (Connection: close, or HTTP/1.0 without keep-alive). */
  readonly close: boolean;
  /** Connection: upgrade plus an Upgrade field naming a protocol other than h2c. */
  readonly upgrade: boolean;
  /**
   * The Upgrade value to send instead of the client's when h2c was listed with
   * other protocols (h2c is never forwarded to an HTTP/1.1 backend); else undefined.
   */
  readonly upgradeValue: string | undefined;
  readonly fields: HeaderFields;
  /** Lower-cased field names listed in Connection: hop-by-hop too. */
  readonly connOthers: string[] | undefined;
  /** The X-Forwarded-For values joined with ", " (undefined if none). */
  readonly xff: string | undefined;
}

/**
 * Parses a complete request head (buf[start, end), end just past CRLFCRLF).
 * Returns a Refusal for anything a strict HTTP/1.1 server must refuse (400,
 * or 501 for a transfer coding other than chunked), with request smuggling in
 * mind: the framing this proxy infers must be the only one a backend could infer.
 */
export function parseRequestHead(buf: Buffer, start: number, end: number): RequestHead | Refusal {
  // request-line = method SP request-target SP HTTP-version CRLF, single spaces only.
  let p = start;
  while (TCHAR[buf[p]!] === 1) p++;
  if (p === start || buf[p] !== SP) return MALFORMED;
  const method = latin1(buf, start, p);
  const ts = ++p;
  while (TARGET[buf[p]!] === 1) p++;
  if (p === ts || buf[p] !== SP) return MALFORMED;
  let target = latin1(buf, ts, p);
  let authority: string | undefined;
  // origin-form, "*" (OPTIONS) or absolute-form (RFC 9112 §3.2.2: a server must accept it);
  // authority-form is CONNECT's, refused below.
  if (target.charCodeAt(0) !== 47 && !(target === "*" && method === "OPTIONS")) {
    const abs = splitAbsoluteForm(target);
    if (abs === undefined) return MALFORMED;
    authority = abs.authority;
    target = abs.path;
  }
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
    return MALFORMED;
  }
  const minor = buf[p + 7] === 49 ? 1 : 0;
  if (method === "CONNECT") return MALFORMED;

  const fields = new HeaderFields(buf);
  if (!parseFieldLines(buf, p + 10, end - 2, fields)) return MALFORMED;

  let cl = -1;
  let te: string | undefined;
  let host: string | undefined;
  let conn: ConnectionOptions | undefined;
  let upgrades: string[] | undefined;
  let h2c = false;
  let xff: string | undefined;
  const { codes } = fields;
  for (let i = 0; i < fields.count; i++) {
    switch (codes[i]) {
      case F_CONTENT_LENGTH:
        // A duplicate, even an identical one, means two parsers may disagree: refuse.
        if (cl !== -1) return MALFORMED;
        cl = parseContentLength(buf, fields.valueStart(i), fields.valueEnd(i));
        if (cl < 0) return MALFORMED;
        break;
      case F_TRANSFER_ENCODING:
        if (te !== undefined) return MALFORMED;
        te = fields.value(i);
        break;
      case F_HOST:
        if (host !== undefined) return MALFORMED;
        host = fields.value(i);
        break;
      case F_CONNECTION:
        conn ??= { flags: 0, others: undefined };
        readConnection(buf, fields.valueStart(i), fields.valueEnd(i), conn);
        break;
      case F_UPGRADE:
        // Strings only for this rare field. h2c is dropped: our backends speak HTTP/1.1 only.
        for (const part of fields.value(i).split(",")) {
          const t = part.trim();
          if (t.length === 0) continue;
          if (t.toLowerCase() === "h2c") h2c = true;
          else {
            upgrades ??= [];
            upgrades.push(t);
          }
        }
        break;
      case F_X_FORWARDED_FOR:
        xff = xff === undefined ? fields.value(i) : `${xff}, ${fields.value(i)}`;
        break;
    }
  }
  // RFC 9112 §3.2: a 1.1 request without exactly one Host is a 400.
  if (minor === 1 && host === undefined) return MALFORMED;
  let bodyKind: BodyKind = BODY_NONE;
  if (te !== undefined) {
    // CL with TE is the classic smuggling vector; 1.0 has no chunked coding.
    if (cl !== -1 || minor === 0) return MALFORMED;
    const coding = transferCoding(te);
    if (coding !== TE_CHUNKED) return coding === TE_UNSUPPORTED ? UNSUPPORTED_CODING : MALFORMED;
    bodyKind = BODY_CHUNKED;
  } else if (cl > 0) {
    bodyKind = BODY_LENGTH;
  }
  const flags = conn?.flags ?? 0;
  const close = minor === 0 ? (flags & CONN_KEEP_ALIVE) === 0 : (flags & CONN_CLOSE) !== 0;
  const upgrade = upgrades !== undefined && (flags & CONN_UPGRADE) !== 0;
  return {
    buf,
    start,
    end,
    method,
    target,
    absolute: authority !== undefined,
    minor,
    fields,
    bodyKind,
    contentLength: Math.max(cl, 0),
    host: authority ?? host ?? "",
    close,
    upgrade,
    upgradeValue: upgrade && h2c ? upgrades!.join(", ") : undefined,
    connOthers: conn?.others,
    xff,
  };
}

/**
 * "http://authority/path?query" (scheme case-insensitive, http or https) as
 * the authority and the origin-form target ("/" when the path is empty).
 * Userinfo ("user@host") is refused, as RFC 9110 §4.2.4 deprecates it, and
 * the authority must be host characters and an optional port only.
 */
export function splitAbsoluteForm(target: string): { authority: string; path: string } | undefined {
  const colon = target.indexOf("://");
  if (colon === -1) return undefined;
  const scheme = target.slice(0, colon).toLowerCase();
  if (scheme !== "http" && scheme !== "https") return undefined;
  const as = colon + 3;
  let ae = as;
  while (ae < target.length) {
    const c = target.charCodeAt(ae);
    if (c === 47 /* / */ || c === 63 /* ? */) break;
    if (AUTHORITY[c] !== 1) return undefined;
    ae++;
  }
  if (ae === as) return undefined;
  const rest = target.slice(ae);
  return {
    authority: target.slice(as, ae),
    path: rest.length === 0 ? "/" : rest.charCodeAt(0) === 63 ? `/${rest}` : rest,
  };
}
