/**
 * Grammars of the strings a snapshot carries into a header, a request line,
 * a config file, a log line or a socket call. Pure predicates (no zod, no
 * node:), so the schema and the agent check the same rules: the schema when
 * a snapshot is decoded, the agent again where the string is used.
 * Every predicate is linear in its input and bounded by a length limit.
 */

export const MAX_ID_LENGTH = 128;
export const MAX_DISPLAY_NAME_LENGTH = 128;
export const MAX_TOKEN_LENGTH = 128;
export const MAX_HOSTNAME_LENGTH = 253;
export const MAX_REQUEST_TARGET_LENGTH = 2048;
export const MAX_PATH_PREFIX_LENGTH = 1024;
export const MAX_URL_LENGTH = 2048;

/** RFC 9110 §5.6.2 token: 1*tchar. Header names, cookie names (RFC 6265 cookie-name). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
export function isToken(s: string, max = MAX_TOKEN_LENGTH): boolean {
  return s.length > 0 && s.length <= max && TOKEN.test(s);
}

/** RFC 6265 §4.1.1 cookie-name (= token). `__Host-`/`__Secure-` need the Secure attribute, which we never set. */
export function isCookieName(s: string, max = 64): boolean {
  return isToken(s, max) && !/^__(host|secure)-/i.test(s);
}

// RFC 3986 pchar = unreserved / pct-encoded / sub-delims / ":" / "@"
const PCHAR = String.raw`[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2}`;
/** RFC 9112 §3.2.1 origin-form = absolute-path [ "?" query ]; absolute-path = 1*( "/" segment ). */
const ORIGIN_FORM = new RegExp(String.raw`^\/(?:${PCHAR}|\/)*(?:\?(?:${PCHAR}|[\/?])*)?$`);
const ABSOLUTE_PATH = new RegExp(String.raw`^\/(?:${PCHAR}|\/)*$`);

/** A request target a client may send as is: no space, CTL, `#`, non-ASCII or bare `%`. */
export function isOriginForm(s: string, max = MAX_REQUEST_TARGET_LENGTH): boolean {
  return s.length > 0 && s.length <= max && ORIGIN_FORM.test(s);
}

/** An absolute path without a query (route path prefixes). */
export function isAbsolutePath(s: string, max = MAX_PATH_PREFIX_LENGTH): boolean {
  return s.length > 0 && s.length <= max && ABSOLUTE_PATH.test(s);
}

/**
 * Text meant for people (names, expected bodies): any Unicode except control
 * characters (C0, DEL, C1), line/paragraph separators, bidirectional
 * overrides and isolates (they reorder what a reader sees around them), lone
 * surrogates and noncharacters U+FFFE/U+FFFF. Such text can be written into a
 * log line or a quoted config string without ending the line.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const NOT_PRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffe\uffff]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point
const UNPRINTABLE_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/**
 * Text from a peer made safe for one log line: every character isPrintableText
 * refuses (controls, separators, bidi overrides) written as a \uXXXX escape, so
 * a value can never end the line or reorder what a reader sees. The one set
 * both the agent's and the console's log lines use.
 */
export function escapeUnprintable(s: string): string {
  return s.replace(UNPRINTABLE_CHARS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
export function isPrintableText(s: string, max: number): boolean {
  return s.length <= max && !NOT_PRINTABLE.test(s) && !LONE_SURROGATE.test(s);
}

/** RFC 1123 host name: LDH labels of 1–63, 253 in all; one trailing dot (the root) allowed when `trailingDot`. */
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
export function isHostname(s: string, opts: { trailingDot?: boolean } = {}): boolean {
  const name = opts.trailingDot && s.endsWith(".") ? s.slice(0, -1) : s;
  if (name.length === 0 || name.length > MAX_HOSTNAME_LENGTH) return false;
  // All digits and dots is an IPv4 address or nothing ("300.1.1.1" is not a host name).
  if (/^[0-9.]+$/.test(name)) return false;
  return name.split(".").every((l) => LABEL.test(l));
}

/** Dotted-quad IPv4, decimal 0–255 without leading zeros (which some parsers read as octal). */
const OCTET = /^(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$/;
export function isIPv4(s: string): boolean {
  if (s.length > 15) return false;
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => OCTET.test(p));
}

/** RFC 4291 text form, with "::" and an embedded IPv4 tail; no zone id (`%eth0`) and no brackets. */
export function isIPv6(s: string): boolean {
  if (s.length < 2 || s.length > 45) return false;
  const halves = s.split("::");
  if (halves.length > 2) return false;
  const groups = (h: string) => (h === "" ? [] : h.split(":"));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const all = [...head, ...tail];
  let count = 0;
  for (const [i, g] of all.entries()) {
    if (i === all.length - 1 && g.includes(".")) {
      if (!isIPv4(g)) return false;
      count += 2;
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(g)) count += 1;
    else return false;
  }
  return halves.length === 2 ? count <= 7 : count === 8;
}

export const isIpLiteral = (s: string): boolean => isIPv4(s) || isIPv6(s);

/**
 * A URL host (`URL.hostname`, so IPv6 comes bracketed) that never leaves this
 * machine: `localhost` (and its subdomains, RFC 6761), 127.0.0.0/8, ::1.
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, "");
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (h === "[::1]" || h === "::1") return true;
  return isIPv4(h) && h.startsWith("127.");
}

/** A backend address or bind address: an IP literal or a host name (a trailing dot is allowed). */
export function isHostOrIp(s: string): boolean {
  return isIpLiteral(s) || isHostname(s, { trailingDot: true });
}

/** LDH labels only (digits-only labels too), one trailing dot allowed: what a Host header may name. */
function isLdhName(s: string): boolean {
  const name = s.endsWith(".") ? s.slice(0, -1) : s;
  return name.length > 0 && name.length <= MAX_HOSTNAME_LENGTH && name.split(".").every((l) => LABEL.test(l));
}

/**
 * A route's host: "" (any), a name (an IP literal included: clients may send
 * `Host: 10.0.0.1`), or `*.suffix` with a dotted suffix (dns listeners).
 */
export function isRouteHost(s: string): boolean {
  if (s === "") return true;
  if (s.startsWith("*.")) return s.slice(2).includes(".") && isLdhName(s.slice(2));
  return isIpLiteral(s) || isLdhName(s);
}

/** Ids: what a console issues (UUIDs) and what people write by hand ("p1", "l-8080"). */
const ID = /^[A-Za-z0-9._~-]+$/;
export function isId(s: string): boolean {
  return s.length > 0 && s.length <= MAX_ID_LENGTH && ID.test(s);
}

/**
 * An absolute URL written as is into a `Location` header: printable ASCII
 * URL characters only (RFC 3986), checked on the raw string, because the
 * WHATWG parser silently drops tabs and newlines a header would keep.
 */
const URL_CHARS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/;
export function isUrlText(s: string, max = MAX_URL_LENGTH): boolean {
  return s.length > 0 && s.length <= max && URL_CHARS.test(s);
}

export interface JsonBounds {
  /** Nesting of arrays/objects; a scalar at the top is depth 0. */
  readonly maxDepth: number;
  /** Values in all (objects, arrays and scalars). */
  readonly maxNodes: number;
  /** Longest string, keys included. */
  readonly maxStringLength: number;
}

/**
 * Whether a JSON value stays within bounds; iterative, so a value nested
 * thousands deep is refused without recursing into it (no stack overflow).
 * Non-JSON values (functions, undefined in arrays, NaN) are refused too.
 */
export function jsonWithin(value: unknown, b: JsonBounds): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  let nodes = 0;
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (++nodes > b.maxNodes) return false;
    if (v === null || typeof v === "boolean") continue;
    if (typeof v === "number") {
      if (!Number.isFinite(v)) return false;
      continue;
    }
    if (typeof v === "string") {
      if (v.length > b.maxStringLength) return false;
      continue;
    }
    if (typeof v !== "object" || depth >= b.maxDepth) return false;
    const children = Array.isArray(v) ? v.length : Object.keys(v).length;
    if (nodes + stack.length + children > b.maxNodes) return false;
    if (Array.isArray(v)) {
      for (const x of v) stack.push([x, depth + 1]);
      continue;
    }
    for (const [k, x] of Object.entries(v)) {
      if (k.length > b.maxStringLength) return false;
      stack.push([x, depth + 1]);
    }
  }
  return true;
}
