import { COLON, CR, HTAB, LF, latin1, SP, TCHAR, VALUE } from "./chars";

/**
 * Header fields of one message head. `raw` is Node's rawHeaders shape
 * ([name, value, ...], names as sent, values without surrounding OWS);
 * `lower` holds the lower-cased names; `spans` the [start, end) byte range of
 * each field line in the head buffer (CRLF included), so forwarding copies
 * the client's bytes instead of re-serializing strings.
 */
export interface HeaderFields {
  readonly raw: string[];
  readonly lower: string[];
  readonly spans: number[];
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
  while (p < last) {
    if (++n > MAX_FIELDS) return false;
    const first = buf[p]!;
    // obs-fold (a line starting with SP/HTAB) continues the previous value: RFC 9112 §5.2 lets us reject it.
    if (first === SP || first === HTAB) return false;
    let q = p;
    while (TCHAR[buf[q]!] === 1) q++;
    if (q === p || buf[q] !== COLON) return false;
    const name = latin1(buf, p, q);
    q++;
    while (buf[q] === SP || buf[q] === HTAB) q++;
    const vs = q;
    while (VALUE[buf[q]!] === 1) q++;
    // The value must end exactly at CRLF; anything else (NUL, bare CR, CTL) is refused.
    if (buf[q] !== CR || buf[q + 1] !== LF) return false;
    let ve = q;
    while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--;
    out.raw.push(name, latin1(buf, vs, ve));
    out.lower.push(name.toLowerCase());
    out.spans.push(p, q + 2);
    p = q + 2;
  }
  return p === last;
}

/** Strict Content-Length: 1*DIGIT, nothing else (no sign, list, inner whitespace); at most 15 digits. */
export function parseContentLength(v: string): number {
  const len = v.length;
  if (len === 0 || len > 15) return -1;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const c = v.charCodeAt(i) - 48;
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

/** Lower-cased tokens of a Connection header value. */
export function connectionTokens(v: string, into: Set<string>): void {
  for (const t of v.split(",")) {
    const name = t.trim().toLowerCase();
    if (name) into.add(name);
  }
}
