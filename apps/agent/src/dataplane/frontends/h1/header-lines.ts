import { COLON, CR, HTAB, LF, latin1, SP, TCHAR, VALUE } from "./chars";

// The field names this proxy acts on, as small codes: a head is classified
// byte by byte, and no string is made for a field nobody reads.
export const F_OTHER = 0;
export const F_CONTENT_LENGTH = 1;
export const F_TRANSFER_ENCODING = 2;
export const F_HOST = 3;
export const F_CONNECTION = 4;
export const F_UPGRADE = 5;
export const F_X_FORWARDED_FOR = 6;
export const F_X_FORWARDED_PROTO = 7;
export const F_X_FORWARDED_HOST = 8;
export const F_KEEP_ALIVE = 9;
export const F_PROXY_CONNECTION = 10;
export const F_PROXY_AUTHENTICATE = 11;
export const F_PROXY_AUTHORIZATION = 12;
export const F_TE = 13;
export const F_TRAILER = 14;
export const F_COOKIE = 15;
export const F_HTTP2_SETTINGS = 16;
export const FIELD_CODES = 17;

const KNOWN: readonly (readonly [string, number])[] = [
  ["content-length", F_CONTENT_LENGTH],
  ["transfer-encoding", F_TRANSFER_ENCODING],
  ["host", F_HOST],
  ["connection", F_CONNECTION],
  ["upgrade", F_UPGRADE],
  ["x-forwarded-for", F_X_FORWARDED_FOR],
  ["x-forwarded-proto", F_X_FORWARDED_PROTO],
  ["x-forwarded-host", F_X_FORWARDED_HOST],
  ["keep-alive", F_KEEP_ALIVE],
  ["proxy-connection", F_PROXY_CONNECTION],
  ["proxy-authenticate", F_PROXY_AUTHENTICATE],
  ["proxy-authorization", F_PROXY_AUTHORIZATION],
  ["te", F_TE],
  ["trailer", F_TRAILER],
  ["cookie", F_COOKIE],
  ["http2-settings", F_HTTP2_SETTINGS],
];

/** Known names by length: [lower-case bytes, code]. */
const BY_LENGTH: (readonly [Uint8Array, number])[][] = [];
for (const [name, code] of KNOWN) {
  const list = BY_LENGTH[name.length] ?? [];
  list.push([Buffer.from(name, "latin1"), code]);
  BY_LENGTH[name.length] = list;
}

/**
 * The code of the token buf[p, q). `| 0x20` lower-cases ASCII letters; no
 * other token character maps onto a letter or '-' that way, so the compare
 * is exact.
 */
function classify(buf: Buffer, p: number, q: number): number {
  const cands = BY_LENGTH[q - p];
  if (cands === undefined) return F_OTHER;
  next: for (let c = 0; c < cands.length; c++) {
    const [bytes, code] = cands[c]!;
    for (let i = 0; i < bytes.length; i++) if ((buf[p + i]! | 0x20) !== bytes[i]) continue next;
    return code;
  }
  return F_OTHER;
}

/** Per field in `at`: line start, name end, value start, value end (OWS trimmed), line end (past CRLF). */
const STRIDE = 5;

/**
 * The field lines of one message head, as byte offsets into `buf` plus a
 * code per field name. Strings are made only when asked for, by name or
 * value, which the proxy's hot path never does for a field it just forwards.
 */
export class HeaderFields {
  readonly codes: number[] = [];
  readonly at: number[] = [];
  count = 0;

  constructor(public buf: Buffer) {}

  /** Empties it for the next head: the arrays keep their room, so a reused instance allocates nothing. */
  reset(buf: Buffer): void {
    this.buf = buf;
    this.count = 0;
  }

  lineStart(i: number): number {
    return this.at[i * STRIDE]!;
  }

  lineEnd(i: number): number {
    return this.at[i * STRIDE + 4]!;
  }

  valueStart(i: number): number {
    return this.at[i * STRIDE + 2]!;
  }

  valueEnd(i: number): number {
    return this.at[i * STRIDE + 3]!;
  }

  name(i: number): string {
    return latin1(this.buf, this.at[i * STRIDE]!, this.at[i * STRIDE + 1]!);
  }

  value(i: number): string {
    return latin1(this.buf, this.at[i * STRIDE + 2]!, this.at[i * STRIDE + 3]!);
  }

  /** Whether field i's name is `lower` (a lower-case name), compared without making a string. */
  named(i: number, lower: string): boolean {
    const p = this.at[i * STRIDE]!;
    if (this.at[i * STRIDE + 1]! - p !== lower.length) return false;
    for (let k = 0; k < lower.length; k++)
      if ((this.buf[p + k]! | 0x20) !== lower.charCodeAt(k)) return false;
    return true;
  }

  /** The first value of the field named `lower` (lower-case), if any. */
  find(lower: string): string | undefined {
    for (let i = 0; i < this.count; i++) if (this.named(i, lower)) return this.value(i);
    return undefined;
  }

  /** Node's rawHeaders shape: [name, value, ...], names as sent. */
  get raw(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.name(i), this.value(i));
    return out;
  }
}

/** At most this many fields per head (Node allows 2000; real clients send < 50). */
export const MAX_FIELDS = 200;

/**
 * Parses the field lines in buf[from, last), where `last` is the offset of the
 * head's final empty line. Returns false for anything malformed: obs-fold, a
 * non-token name, whitespace before the colon, a CTL/NUL/bare CR in a value.
 * The head reader already guaranteed every LF follows a CR.
 */
export function parseFieldLines(buf: Buffer, from: number, last: number, out: HeaderFields): boolean {
  let p = from;
  let n = 0;
  const { codes, at } = out;
  while (p < last) {
    if (n === MAX_FIELDS) return false;
    const first = buf[p]!;
    // obs-fold (a line starting with SP/HTAB) continues the previous value: RFC 9112 §5.2 lets us reject it.
    if (first === SP || first === HTAB) return false;
    let q = p;
    while (TCHAR[buf[q]!] === 1) q++;
    if (q === p || buf[q] !== COLON) return false;
    const nameEnd = q;
    q++;
    while (buf[q] === SP || buf[q] === HTAB) q++;
    const vs = q;
    while (VALUE[buf[q]!] === 1) q++;
    // The value must end exactly at CRLF; anything else (NUL, bare CR, CTL) is refused.
    if (buf[q] !== CR || buf[q + 1] !== LF) return false;
    let ve = q;
    while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--;
    codes[n] = classify(buf, p, nameEnd);
    const a = n * STRIDE;
    at[a] = p;
    at[a + 1] = nameEnd;
    at[a + 2] = vs;
    at[a + 3] = ve;
    at[a + 4] = q + 2;
    out.count = ++n;
    p = q + 2;
  }
  return p === last;
}

/** Strict Content-Length: 1*DIGIT, nothing else (no sign, list, inner whitespace); at most 15 digits. */
export function parseContentLength(buf: Buffer, from: number, to: number): number {
  const len = to - from;
  if (len === 0 || len > 15) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = buf[i]! - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/**
 * Transfer-Encoding whose final coding is chunked, chunked appearing once and
 * every coding a plain token. "chunked, identity", "xchunked" and friends fail.
 */
export function endsWithChunked(v: string): boolean {
  const parts = v.split(",");
  let seen = 0;
  for (let i = 0; i < parts.length; i++) {
    const t = parts[i]!.trim().toLowerCase();
    if (t.length === 0) return false;
    for (let j = 0; j < t.length; j++) if (TCHAR[t.charCodeAt(j)] !== 1) return false;
    if (t === "chunked") seen++;
  }
  return seen === 1 && parts[parts.length - 1]!.trim().toLowerCase() === "chunked";
}

export const TE_CHUNKED = 0;
export const TE_UNSUPPORTED = 1;
export const TE_MALFORMED = 2;

/**
 * A request's Transfer-Encoding: TE_CHUNKED for exactly "chunked" (any case,
 * OWS around it); TE_UNSUPPORTED for a well-formed list naming any other
 * coding (gzip, identity, ...: 501, as nginx); TE_MALFORMED for an empty
 * element, a non-token or chunked more than once (400).
 */
export function transferCoding(v: string): number {
  const parts = v.split(",");
  let chunked = 0;
  for (let i = 0; i < parts.length; i++) {
    const t = parts[i]!.trim().toLowerCase();
    if (t.length === 0) return TE_MALFORMED;
    for (let j = 0; j < t.length; j++) if (TCHAR[t.charCodeAt(j)] !== 1) return TE_MALFORMED;
    if (t === "chunked") chunked++;
  }
  if (chunked > 1) return TE_MALFORMED;
  return chunked === 1 && parts.length === 1 ? TE_CHUNKED : TE_UNSUPPORTED;
}

export const CONN_CLOSE = 1;
export const CONN_KEEP_ALIVE = 2;
export const CONN_UPGRADE = 4;

/** What the Connection fields of a head say. */
export interface ConnectionOptions {
  /** CONN_* flags. */
  flags: number;
  /**
   * Any other tokens, lower-cased: field names that are hop-by-hop for this
   * message. "close", "keep-alive" and "upgrade" are connection options, not
   * listed here.
   */
  others: string[] | undefined;
}

/** Adds the tokens of one Connection value, buf[from, to), to `into`. */
export function readConnection(buf: Buffer, from: number, to: number, into: ConnectionOptions): void {
  let p = from;
  while (p < to) {
    while (p < to && (buf[p] === SP || buf[p] === HTAB || buf[p] === 44)) p++;
    const s = p;
    while (p < to && buf[p] !== 44) p++;
    let e = p;
    while (e > s && (buf[e - 1] === SP || buf[e - 1] === HTAB)) e--;
    if (e === s) continue;
    if (tokenIs(buf, s, e, "close")) into.flags |= CONN_CLOSE;
    else if (tokenIs(buf, s, e, "keep-alive")) into.flags |= CONN_KEEP_ALIVE;
    else if (tokenIs(buf, s, e, "upgrade")) into.flags |= CONN_UPGRADE;
    else {
      into.others ??= [];
      into.others.push(latin1(buf, s, e).toLowerCase());
    }
  }
}

function tokenIs(buf: Buffer, s: number, e: number, lower: string): boolean {
  if (e - s !== lower.length) return false;
  for (let k = 0; k < lower.length; k++) if ((buf[s + k]! | 0x20) !== lower.charCodeAt(k)) return false;
  return true;
}
