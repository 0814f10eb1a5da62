import fc from "fast-check";

/**
 * An independent, slow, string-based reading of HTTP/1.1 request framing
 * (RFC 9112 §6), for the h1 fuzzer: it is NOT the proxy's parser, so the
 * fuzzer can compare what the proxy decided with what a second parser reads
 * from the same bytes. Lenient where the proxy is strict (it accepts any
 * Transfer-Encoding list ending in chunked, any field line with a colon), so
 * every disagreement the proxy lets through shows up as different messages.
 */
export interface RefMessage {
  method: string;
  target: string;
  /** The body as framed (for chunked: the raw chunked bytes including the last chunk and trailers). */
  body: string;
}

export type RefParse =
  /** Complete messages, then whatever incomplete rest followed (may be ""). */
  | { messages: RefMessage[]; rest: string; error?: undefined }
  | { messages: RefMessage[]; rest: string; error: string };

export function refParse(stream: string): RefParse {
  const messages: RefMessage[] = [];
  let p = 0;
  for (let guard = 0; guard < 64; guard++) {
    while (stream.startsWith("\r\n", p)) p += 2;
    if (p >= stream.length) return { messages, rest: "" };
    const headEnd = stream.indexOf("\r\n\r\n", p);
    if (headEnd === -1) return { messages, rest: stream.slice(p) };
    const lines = stream.slice(p, headEnd).split("\r\n");
    const m = /^([^ ]+) ([^ ]+) HTTP\/1\.[01]$/.exec(lines[0]!);
    if (!m) return { messages, rest: stream.slice(p), error: `request line ${JSON.stringify(lines[0])}` };
    let cl: string | undefined;
    let te: string | undefined;
    for (const line of lines.slice(1)) {
      const c = line.indexOf(":");
      if (c <= 0) return { messages, rest: stream.slice(p), error: `field line ${JSON.stringify(line)}` };
      const name = line.slice(0, c).trim().toLowerCase();
      const value = line.slice(c + 1).trim();
      if (name === "content-length") {
        if (cl !== undefined && cl !== value) return { messages, rest: stream.slice(p), error: "two CL" };
        cl = value;
      } else if (name === "transfer-encoding") te = te === undefined ? value : `${te}, ${value}`;
    }
    let q = headEnd + 4;
    let body: string;
    if (te !== undefined && /(^|,)\s*chunked\s*$/i.test(te)) {
      const end = chunkedEnd(stream, q);
      if (end === "error") return { messages, rest: stream.slice(p), error: "chunked" };
      if (end === "more") return { messages, rest: stream.slice(p) };
      body = stream.slice(q, end);
      q = end;
    } else if (te !== undefined) {
      return { messages, rest: stream.slice(p), error: "TE not ending in chunked" };
    } else if (cl !== undefined) {
      if (!/^\d+$/.test(cl)) return { messages, rest: stream.slice(p), error: "CL" };
      const n = Number(cl);
      if (stream.length - q < n) return { messages, rest: stream.slice(p) };
      body = stream.slice(q, q + n);
      q += n;
    } else {
      body = "";
    }
    messages.push({ method: m[1]!, target: m[2]!, body });
    p = q;
  }
  return { messages, rest: stream.slice(p) };
}

/** Offset just past a chunked body starting at `p`, "more" if incomplete, "error" if not chunked framing. */
function chunkedEnd(s: string, p: number): number | "more" | "error" {
  for (let guard = 0; guard < 1000; guard++) {
    const le = s.indexOf("\r\n", p);
    if (le === -1) return "more";
    const sizeMatch = /^([0-9a-fA-F]+)[ \t]*(;.*)?$/.exec(s.slice(p, le));
    if (!sizeMatch) return "error";
    const size = Number.parseInt(sizeMatch[1]!, 16);
    p = le + 2;
    if (size === 0) {
      // Trailer section: lines until an empty one.
      for (let t = 0; t < 100; t++) {
        const e = s.indexOf("\r\n", p);
        if (e === -1) return "more";
        if (e === p) return e + 2;
        if (s.slice(p, e).indexOf(":") <= 0) return "error";
        p = e + 2;
      }
      return "error";
    }
    if (s.length < p + size + 2) return "more";
    if (s.slice(p + size, p + size + 2) !== "\r\n") return "error";
    p += size + 2;
  }
  return "error";
}

// ---- generator ----------------------------------------------------------------

const METHODS = ["GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "G(T", "", "CONNECT"];
const TARGETS = [
  "/",
  "/a?b=1",
  "http://h.example/p",
  "HTTP://x",
  "*",
  "/a b",
  "//x",
  "http://u@h/",
  "ftp://h/",
];
const VERSIONS = ["HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/1.2", "http/1.1", ""];
const TE_VALUES = [
  "chunked",
  "Chunked",
  " chunked ",
  "gzip, chunked",
  "identity, chunked",
  "chunked, identity",
  "chunked, chunked",
  "\x0bchunked",
  "xchunked",
  "chunked;q=1",
  "",
];
const CL_VALUES = ["0", "1", "3", "5", "10", "+1", "-1", "1, 1", "0x3", "", " 3", "99999999999999999"];

const chunkExt = fc.constantFrom("", ";a", ";a=b", ' ;x="y"', "\t;e", " ", "; \x01", `;${"e".repeat(20)}`);
const trailer = fc.constantFrom(
  "",
  "X-T: 1\r\n",
  "X-T : 1\r\n",
  "GET / HTTP/1.1\r\nHost: a\r\n",
  " folded\r\n",
  "X:\r\n",
);
const chunkData = fc.string({ maxLength: 12 }).map((s) => s.replace(/[^\x20-\x7e]/g, "z"));

/** A chunked body, sometimes broken (bad size, missing CRLF, wrong length). */
const chunkedBody = fc
  .tuple(
    fc.array(fc.tuple(chunkData, chunkExt, fc.integer({ min: -2, max: 2 })), { maxLength: 3 }),
    chunkExt,
    trailer,
    fc.constantFrom("\r\n", "\r\n", "", "\n"),
  )
  .map(([chunks, lastExt, tr, final]) => {
    let out = "";
    for (const [data, ext, skew] of chunks) {
      const size = Math.max(0, data.length + (skew === 2 ? 1 : skew === -2 ? -1 : 0));
      out += `${size.toString(16)}${ext}\r\n${data}\r\n`;
    }
    return `${out}0${lastExt}\r\n${tr}${final}`;
  });

const junkField = fc.constantFrom(
  "X-A: 1",
  "X-A: 1\x002",
  "X-A: a\rb",
  "X A: 1",
  ": x",
  "Connection: close",
  "Connection: keep-alive",
  "Connection: Upgrade, HTTP2-Settings",
  "Upgrade: h2c",
  "HTTP2-Settings: AAMAAABkAAQAAP__",
  "Expect: 100-continue",
  "\tfolded",
  "X-Forwarded-For: 1.2.3.4",
);

/** Mostly the first (valid) choice, sometimes any: well-formed requests reach the deep states, odd ones the edges. */
const mostly = <T>(first: T, all: readonly T[]) =>
  fc.oneof({ weight: 4, arbitrary: fc.constant(first) }, { weight: 1, arbitrary: fc.constantFrom(...all) });

const textBody = fc.string({ maxLength: 12 }).map((s) => s.replace(/[^\x20-\x7e]/g, "y"));

/** One request: request line, fields (with framing ones chosen on purpose), body. */
export const requestArb = fc
  .record({
    method: mostly("POST", METHODS),
    target: mostly("/", TARGETS),
    version: mostly("HTTP/1.1", VERSIONS),
    hosts: mostly(1, [0, 1, 2]),
    framing: fc.constantFrom("none", "cl", "te", "te", "both", "cl2"),
    cl: fc.constantFrom(...CL_VALUES),
    te: mostly("chunked", TE_VALUES),
    extra: fc.array(junkField, { maxLength: 2 }),
    chunked: chunkedBody,
    text: textBody,
    lie: fc.integer({ min: -2, max: 8 }),
    bareLf: fc.integer({ min: 0, max: 20 }),
  })
  .map((r) => {
    const lines = [`${r.method} ${r.target} ${r.version}`.replace(/ $/, "")];
    for (let i = 0; i < r.hosts; i++) lines.push(`Host: h${i}`);
    let body = "";
    if (r.framing === "cl" || r.framing === "cl2" || r.framing === "both") {
      // Content-Length: the body's own length, mostly; sometimes one of the odd values.
      const len = r.lie >= 0 ? String(r.text.length) : r.cl;
      lines.push(`Content-Length: ${len}`);
      if (r.framing === "cl2") lines.push(`Content-Length: ${r.lie === 0 ? len : r.cl}`);
      body = r.text;
    }
    if (r.framing === "te" || r.framing === "both") {
      lines.push(`Transfer-Encoding: ${r.te}`);
      body = r.chunked;
    }
    lines.push(...r.extra);
    const eol = r.bareLf === 0 ? "\n" : "\r\n";
    return `${lines.join(eol)}${eol}${eol}${body}`;
  });

/** A client byte stream: up to three pipelined requests, sometimes mutated, cut into pieces. */
export const streamArb = fc
  .tuple(
    fc.array(requestArb, { minLength: 1, maxLength: 3 }),
    fc.array(fc.tuple(fc.nat(), fc.constantFrom("del", "dup", "flip", "crlf")), { maxLength: 2 }),
    fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 6 }),
  )
  .map(([reqs, mutations, cuts]) => {
    let s = reqs.join("");
    for (const [at, kind] of mutations) {
      const i = s.length === 0 ? 0 : at % s.length;
      if (kind === "del") s = s.slice(0, i) + s.slice(i + 1);
      else if (kind === "dup") s = s.slice(0, i) + s[i] + s.slice(i);
      else if (kind === "flip")
        s = s.slice(0, i) + String.fromCharCode((s.charCodeAt(i) ^ 0x20) & 0xff) + s.slice(i + 1);
      else s = `${s.slice(0, i)}\r\n${s.slice(i)}`;
    }
    const pieces: string[] = [];
    let p = 0;
    for (const c of cuts) {
      if (p >= s.length) break;
      pieces.push(s.slice(p, p + c));
      p += c;
    }
    if (p < s.length) pieces.push(s.slice(p));
    return pieces;
  });
