import { describe, expect, it } from "vitest";
import { CHUNKED_ERROR, CHUNKED_MORE, ChunkedScanner } from "../../src/dataplane/frontends/h1/chunked";
import {
  HEAD_BARE_LF,
  HEAD_INCOMPLETE,
  HEAD_TOO_LARGE,
  HeadReader,
} from "../../src/dataplane/frontends/h1/head-reader";
import { MALFORMED, Refusal, UNSUPPORTED_CODING } from "../../src/dataplane/frontends/h1/refusal";
import {
  BODY_CHUNKED,
  BODY_LENGTH,
  BODY_NONE,
  BODY_UNTIL_CLOSE,
  parseRequestHead,
  type RequestHead,
  splitAbsoluteForm,
} from "../../src/dataplane/frontends/h1/request-head";
import { parseResponseHead } from "../../src/dataplane/frontends/h1/response-head";

const HEADS = [
  "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
  "POST /up?x=1 HTTP/1.1\r\nHost: shop.example:8080\r\nContent-Length: 5\r\nX-Forwarded-For: 1.2.3.4\r\n\r\nhello",
  "PUT /c HTTP/1.1\r\nhost: b\r\ntransfer-encoding:  Chunked \r\nCookie: a=1; sid=xyz\r\n\r\n0\r\n\r\n",
  "GET /old HTTP/1.0\r\nUser-Agent:  spaced value \t\r\n\r\n",
  // Empty lines before the request line are skipped however they are split (found by the fuzzer).
  "\r\n\r\nGET /after-body HTTP/1.1\r\nHost: a\r\n\r\n",
];

function parseSplit(text: string, at: number[]) {
  const bytes = Buffer.from(text, "latin1");
  const r = new HeadReader(16_384);
  let prev = 0;
  for (const cut of [...at, bytes.length]) {
    const end = r.push(bytes.subarray(prev, cut));
    prev = cut;
    if (end >= 0) {
      // What follows the head: the rest of this chunk plus the bytes not fed yet.
      const rest = r.buf.subarray(end).toString() + bytes.subarray(cut).toString();
      const parsed = parseRequestHead(r.buf, r.start, end);
      return parsed instanceof Refusal ? { refusal: parsed, rest } : { head: parsed as RequestHead, rest };
    }
    if (end !== HEAD_INCOMPLETE) return { error: end };
  }
  return { error: HEAD_INCOMPLETE };
}

describe("request head parser", () => {
  it("parses the same head whatever way it is split (every byte, and byte by byte)", () => {
    for (const text of HEADS) {
      const whole = parseSplit(text, []);
      expect(whole.head).toBeDefined();
      for (let i = 1; i < text.length; i++) {
        const split = parseSplit(text, [i]);
        expect(split.head?.fields.raw, `split at ${i}`).toEqual(whole.head!.fields.raw);
        expect(split.rest).toBe(whole.rest);
      }
      const bytewise = parseSplit(
        text,
        Array.from({ length: text.length - 1 }, (_, i) => i + 1),
      );
      expect(bytewise.head?.fields.raw).toEqual(whole.head!.fields.raw);
    }
  });

  it("reads method, target, version, raw headers and framing", () => {
    const a = parseSplit(HEADS[1]!, []).head!;
    expect([a.method, a.target, a.minor, a.host, a.bodyKind, a.contentLength]).toEqual([
      "POST",
      "/up?x=1",
      1,
      "shop.example:8080",
      BODY_LENGTH,
      5,
    ]);
    expect(a.xff).toBe("1.2.3.4");
    const b = parseSplit(HEADS[2]!, []).head!;
    expect(b.bodyKind).toBe(BODY_CHUNKED);
    const c = parseSplit(HEADS[3]!, []).head!;
    expect(c.fields.raw).toEqual(["User-Agent", "spaced value"]);
    expect([c.minor, c.close, c.bodyKind]).toEqual([0, true, BODY_NONE]);
  });

  it("recognises the fields it acts on whatever their case, and reads Connection tokens", () => {
    const h = parseSplit(
      "POST / HTTP/1.1\r\nhOST: b\r\ncontent-LENGTH: 3\r\nCONNECTION: Keep-Alive, X-Drop,\tUpgrade\r\nX-Drop: 1\r\nContent-Lengths: 9\r\n\r\nabc",
      [],
    ).head!;
    expect([h.host, h.bodyKind, h.contentLength, h.close, h.upgrade]).toEqual([
      "b",
      BODY_LENGTH,
      3,
      false,
      false,
    ]);
    expect(h.connOthers).toEqual(["x-drop"]);
    expect(h.fields.find("content-lengths")).toBe("9");
    expect(h.fields.find("x-drop")).toBe("1");
    // A second Content-Length in another case is still a duplicate.
    expect(
      parseSplit("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nCONTENT-LENGTH: 1\r\n\r\n", []).refusal,
    ).toBe(MALFORMED);
    const close = parseSplit("GET / HTTP/1.1\r\nHost: a\r\nConnection: CLOSE\r\n\r\n", []).head!;
    expect([close.close, close.connOthers]).toEqual([true, undefined]);
  });

  it("answers 501 for any transfer coding but chunked, and 400 for a malformed list", () => {
    const te = (v: string) =>
      parseSplit(`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ${v}\r\n\r\n`, []).refusal;
    for (const v of [
      "gzip, chunked",
      "identity, chunked",
      "chunked, identity",
      "identity",
      "xchunked",
      "gzip",
    ])
      expect(te(v), v).toBe(UNSUPPORTED_CODING);
    for (const v of ["chunked, chunked", "chunked,", ", chunked", "chunked;q=1", "chu nked"])
      expect(te(v), v).toBe(MALFORMED);
    expect(te("CHUNKED")).toBeUndefined();
  });

  it("accepts an absolute-form target: routes on its authority, which replaces Host", () => {
    const h = parseSplit("GET http://Shop.example:8080/a/b?q=1 HTTP/1.1\r\nHost: other\r\n\r\n", []).head!;
    expect([h.absolute, h.target, h.host]).toEqual([true, "/a/b?q=1", "Shop.example:8080"]);
    expect(parseSplit("GET HTTPS://x HTTP/1.1\r\nHost: x\r\n\r\n", []).head?.target).toBe("/");
    expect(parseSplit("GET http://x?y HTTP/1.1\r\nHost: x\r\n\r\n", []).head?.target).toBe("/?y");
    expect(splitAbsoluteForm("http://[::1]:80/p")).toEqual({ authority: "[::1]:80", path: "/p" });
    for (const bad of ["ftp://x/", "http:///p", "http://u@x/", "http:x/", "x", 'http://a"b/'])
      expect(splitAbsoluteForm(bad), bad).toBeUndefined();
    // RFC 9112 §3.2: HTTP/1.1 still needs its Host field.
    expect(parseSplit("GET http://x/ HTTP/1.1\r\n\r\n", []).refusal).toBe(MALFORMED);
  });

  it("drops h2c from Upgrade: alone it is no upgrade, in a list the rest stays", () => {
    const up = (v: string) =>
      parseSplit(
        `GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: ${v}\r\nHTTP2-Settings: AAA\r\n\r\n`,
        [],
      ).head!;
    expect([up("h2c").upgrade, up("h2c").upgradeValue]).toEqual([false, undefined]);
    expect([up("websocket").upgrade, up("websocket").upgradeValue]).toEqual([true, undefined]);
    expect([up("H2C, websocket").upgrade, up("H2C, websocket").upgradeValue]).toEqual([true, "websocket"]);
  });

  it("caps the head size and refuses bare LF before the head is complete", () => {
    const r = new HeadReader(1024);
    expect(r.push(Buffer.from(`GET / HTTP/1.1\r\nX: ${"a".repeat(2000)}`))).toBe(HEAD_TOO_LARGE);
    expect(new HeadReader(1024).push(Buffer.from("GET / HTTP/1.1\nHost: a"))).toBe(HEAD_BARE_LF);
  });
});

describe("response head parser", () => {
  const parse = (t: string, method = "GET") => {
    const b = Buffer.from(t, "latin1");
    return parseResponseHead(b, 0, b.indexOf("\r\n\r\n") + 4, method);
  };
  it("frames by method and status", () => {
    expect(parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n")?.bodyKind).toBe(BODY_LENGTH);
    expect(parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", "HEAD")?.bodyKind).toBe(BODY_NONE);
    expect(parse("HTTP/1.1 204 No Content\r\n\r\n")?.bodyKind).toBe(BODY_NONE);
    expect(parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n")?.bodyKind).toBe(BODY_NONE);
    expect(parse("HTTP/1.1 100 Continue\r\n\r\n")?.bodyKind).toBe(BODY_NONE);
    expect(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")?.bodyKind).toBe(BODY_CHUNKED);
    const uc = parse("HTTP/1.1 200 OK\r\n\r\n");
    expect([uc?.bodyKind, uc?.close]).toEqual([BODY_UNTIL_CLOSE, true]);
    expect(parse("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n")?.close).toBe(true);
    expect(parse("HTTP/1.1 200\r\nContent-Length: 1\r\n\r\n")?.status).toBe(200);
  });
  it("refuses ambiguous framing", () => {
    expect(
      parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
    ).toBeUndefined();
    expect(parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n")).toBeUndefined();
    expect(parse("HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\n")).toBeUndefined();
    expect(parse("HTTP/1.1 2x0 OK\r\n\r\n")).toBeUndefined();
  });
});

describe("chunked scanner", () => {
  // BWS before an extension's ";" is allowed (RFC 9112 §7.1.1).
  const body =
    '4;ext=1;q="x"\r\nWiki\r\n5 \t;e\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\nX-T:\r\n\r\n';
  it("finds the end of the message at every split, leaving what follows", () => {
    const bytes = Buffer.from(`${body}NEXT`);
    for (let i = 0; i <= bytes.length; i++) {
      const s = new ChunkedScanner(1024);
      let end = s.scan(bytes, 0, i);
      if (end === CHUNKED_MORE) end = s.scan(bytes, i, bytes.length);
      expect(end, `split at ${i}`).toBe(body.length);
    }
  });
  it("refuses malformed framing", () => {
    for (const bad of [
      "x\r\n",
      "4 \r\nWiki\r\n",
      "4\nWiki\r\n",
      "4\r\nWikiX\r\n",
      "-1\r\n",
      "1234567890abc\r\n",
      "0\r\n x\r\n\r\n",
      "1 \r\nx\r\n",
      "1 x\r\nx\r\n",
      // Trailer lines are field lines: a request line pipelined after a body missing its last CRLF is not one.
      "0\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
      "0\r\nX-T : 1\r\n\r\n",
      "0\r\nX-T\r\n\r\n",
      "0\r\nX-T: a\x01b\r\n\r\n",
      "0\r\nX-T: 1\r\n\tfolded\r\n\r\n",
    ]) {
      const b = Buffer.from(bad);
      expect(new ChunkedScanner(1024).scan(b, 0, b.length), bad).toBe(CHUNKED_ERROR);
    }
  });
});
