import { request, validateHeaderName, validateHeaderValue } from "node:http";
import { isIP } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  isCookieName,
  isHostOrIp,
  isIpLiteral,
  isOriginForm,
  isPrintableText,
  isToken,
} from "../src/grammar";

/** Any string at all: ASCII, control characters, lone surrogates, astral planes. */
const anyString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom("/", "a", " ", "%", "?", "#", "\r", "\n", "\u0000", "é", ":", "."),
    maxLength: 20,
  }),
);

describe("grammar properties: what a grammar accepts, the sink accepts too", () => {
  it("a health-check path the grammar accepts never makes http.request throw", () => {
    fc.assert(
      fc.property(anyString, (s) => {
        const path = `/${s}`;
        if (!isOriginForm(path)) return;
        const req = request({ host: "127.0.0.1", port: 9, path, agent: false });
        req.on("error", () => {});
        req.destroy();
      }),
      { numRuns: 2000 },
    );
  });

  it("a cookie name the grammar accepts makes a valid Set-Cookie header; a refused one would not always", () => {
    fc.assert(
      fc.property(anyString, (name) => {
        if (!isCookieName(name)) return;
        expect(() => validateHeaderValue("set-cookie", `${name}=v; Path=/; HttpOnly`)).not.toThrow();
        expect(name).not.toMatch(/[\s;=,]/);
      }),
      { numRuns: 2000 },
    );
  });

  it("a header name the grammar accepts is a header name to node", () => {
    fc.assert(
      fc.property(anyString, (name) => {
        if (isToken(name)) expect(() => validateHeaderName(name)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });

  it("an IP literal the grammar accepts is one to node; addresses never hold a separator a config line would split on", () => {
    fc.assert(
      fc.property(anyString, (s) => {
        if (isIpLiteral(s)) expect(isIP(s)).not.toBe(0);
        if (isHostOrIp(s)) expect(s).toMatch(/^[A-Za-z0-9.:-]+$/);
      }),
      { numRuns: 2000 },
    );
  });

  it("printable text never holds a line break or a control character", () => {
    fc.assert(
      fc.property(anyString, (s) => {
        if (!isPrintableText(s, 128)) return;
        for (const c of s) {
          const n = c.codePointAt(0)!;
          expect(n < 0x20 || (n >= 0x7f && n <= 0x9f) || n === 0x2028 || n === 0x2029).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
