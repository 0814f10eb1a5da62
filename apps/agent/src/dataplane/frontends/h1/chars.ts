/**
 * Byte classes from RFC 9110 §5.6.2 (tchar) and §5.5 (field-value), as lookup
 * tables: one array read per byte is the cheapest check the JIT can make.
 */

export const CR = 13;
export const LF = 10;
export const SP = 32;
export const HTAB = 9;
export const COLON = 58;

/** token characters: header names, methods, transfer codings. */
export const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/** field-value bytes: VCHAR, obs-text, SP, HTAB. CR, LF, NUL, other CTLs and DEL are not. */
export const VALUE = new Uint8Array(256);
VALUE[HTAB] = 1;
for (let c = 0x20; c <= 0x7e; c++) VALUE[c] = 1;
for (let c = 0x80; c <= 0xff; c++) VALUE[c] = 1;

/** request-target bytes: visible ASCII only (no spaces, no CTLs, no obs-text). */
export const TARGET = new Uint8Array(256);
for (let c = 0x21; c <= 0x7e; c++) TARGET[c] = 1;

/**
 * authority bytes of an absolute-form target (RFC 3986 §3.2.2-3 host and port):
 * unreserved, sub-delims, "%", ":" and IP-literal brackets. No "@" (userinfo).
 */
export const AUTHORITY = new Uint8Array(256);
for (const c of "-._~!$&'()*+,;=%:[]") AUTHORITY[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) AUTHORITY[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) AUTHORITY[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) AUTHORITY[c] = 1;

/** Hex digit value + 1 (0 = not a hex digit). */
export const HEX = new Uint8Array(256);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i + 1;
for (let i = 0; i < 6; i++) {
  HEX[0x41 + i] = 11 + i;
  HEX[0x61 + i] = 11 + i;
}

/** Buffer's undocumented but stable latin1Slice skips toString()'s argument checks. */
interface Latin1 {
  latin1Slice(start: number, end: number): string;
  latin1Write(s: string, offset: number): number;
}
export const latin1 = (buf: Buffer, start: number, end: number): string =>
  (buf as unknown as Latin1).latin1Slice(start, end);
export const writeLatin1 = (buf: Buffer, s: string, offset: number): number =>
  (buf as unknown as Latin1).latin1Write(s, offset);
