import { describe, expect, it } from "vitest";
import { agentConsoleArgs } from "../src/enroll";
import {
  escapeUnprintable,
  isAbsolutePath,
  isCookieName,
  isHostname,
  isHostOrIp,
  isId,
  isIPv4,
  isIPv6,
  isLoopbackHost,
  isOriginForm,
  isPrintableText,
  isRouteHost,
  isToken,
  isUrlText,
  jsonWithin,
} from "../src/grammar";

/** Strings no field that reaches a header, request line, config file or log line may hold. */
const HOSTILE = [
  "",
  "a\r\nSet-Cookie: x=1",
  "a\nb",
  "a\rb",
  "a\u0000b",
  "a\tb",
  "a b",
  "a\u007fb",
  "a\u0085b",
  "a\u2028b",
  "\ud800",
  "é",
  "x".repeat(100_000),
];

describe("token (header and cookie names)", () => {
  it("accepts RFC 9110 tchars", () => {
    for (const v of ["X-User", "FULCRUM_STICKY", "!#$%&'*+-.^_`|~09azAZ", "a"]) expect(isToken(v)).toBe(true);
  });
  it.each(HOSTILE.concat(["a:b", "a;b", "a=b", "a,b", '"a"', "a(b)", "a/b", "a@b", "a[b]", "a{b}"]))(
    "refuses %j",
    (v) => {
      expect(isToken(v)).toBe(false);
      expect(isCookieName(v)).toBe(false);
    },
  );
  it("bounds the length", () => {
    expect(isToken("a".repeat(128))).toBe(true);
    expect(isToken("a".repeat(129))).toBe(false);
    expect(isCookieName("a".repeat(64))).toBe(true);
    expect(isCookieName("a".repeat(65))).toBe(false);
  });
  it("refuses cookie prefixes that need the Secure attribute", () => {
    expect(isCookieName("__Host-sid")).toBe(false);
    expect(isCookieName("__secure-sid")).toBe(false);
    expect(isCookieName("__Hostess")).toBe(true);
  });
});

describe("origin-form request targets (health-check paths)", () => {
  it.each(["/", "/healthz", "/a/b/", "//x", "/a%20b", "/a?b=c&d", "/a?x=/y?z", "/~u/(x);p=1:@!$'*+,"])(
    "accepts %j",
    (v) => expect(isOriginForm(v)).toBe(true),
  );
  it.each(
    HOSTILE.concat([
      "/a b",
      "healthz",
      "/a#frag",
      "/a%2",
      "/a%zz",
      "/a\\b",
      "/a<b>",
      '/a"b',
      "/a{b}",
      "/a|b",
      "/a^b",
      "/a`b",
      "/é",
      "*",
      "http://x/",
      "/a\r\nHost: evil",
      "/a HTTP/1.1\r\nX: y",
    ]),
  )("refuses %j", (v) => expect(isOriginForm(v)).toBe(false));
  it("path prefixes are absolute paths without a query", () => {
    expect(isAbsolutePath("/api/")).toBe(true);
    expect(isAbsolutePath("/a?b")).toBe(false);
    expect(isAbsolutePath("/a b")).toBe(false);
    expect(isAbsolutePath("/".repeat(1025))).toBe(false);
  });
  it("is linear on long hostile input", () => {
    const t0 = performance.now();
    expect(isOriginForm(`/${"%2".repeat(500_000)}`, 2_000_000)).toBe(false);
    expect(isOriginForm(`/${"a/".repeat(500_000)} `, 2_000_000)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(5_000);
  });
});

describe("printable text (names, expected bodies)", () => {
  it("accepts text for people, quotes and non-ASCII included", () => {
    for (const v of ["", "web", "Web 1 (eu)", `a'b"c=d`, "café ☕ 🚀", "Ωmega", "שלום"]) {
      expect(isPrintableText(v, 128)).toBe(true);
    }
  });
  it.each([
    "a\r\nb",
    "a\nb",
    "a\u0000b",
    "a\tb",
    "a\u001bb",
    "a\u007fb",
    "a\u0085b",
    "a\u2028b",
    "a\u2029b",
    "a\u202eb",
    "a\u2066b",
    "\ud800",
    "x\udc00",
    "\uffff",
  ])("refuses %j", (v) => expect(isPrintableText(v, 128)).toBe(false));
  it("bounds the length", () => expect(isPrintableText("x".repeat(129), 128)).toBe(false));
});

describe("addresses and host names", () => {
  it.each(["127.0.0.1", "0.0.0.0", "255.255.255.255", "10.0.0.10"])("IPv4 %s", (v) => {
    expect(isIPv4(v)).toBe(true);
    expect(isHostOrIp(v)).toBe(true);
  });
  it.each(["256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.4 ", "300.1.1.1", "1..2.3"])(
    "not IPv4 nor a host name: %j",
    (v) => {
      expect(isIPv4(v)).toBe(false);
      expect(isHostOrIp(v)).toBe(false);
    },
  );
  it.each(["::", "::1", "fe80::1", "2001:db8::8a2e:370:7334", "1:2:3:4:5:6:7:8", "::ffff:192.0.2.1", "1::"])(
    "IPv6 %s",
    (v) => {
      expect(isIPv6(v)).toBe(true);
      expect(isHostOrIp(v)).toBe(true);
    },
  );
  it.each([
    ":::",
    "1:2:3:4:5:6:7:8:9",
    "1::2::3",
    "fe80::1%eth0",
    "[::1]",
    "12345::",
    "1:2:3:4:5:6:7",
    "::g",
  ])("not IPv6: %j", (v) => expect(isIPv6(v)).toBe(false));
  it.each(["localhost", "backend-1", "a.example.com", "A.EXAMPLE.com", "xn--e1a.com", "1a", "example.com."])(
    "host name %s",
    (v) => expect(isHostOrIp(v)).toBe(true),
  );
  it.each(
    HOSTILE.concat([
      "-a.com",
      "a-.com",
      "a..b",
      "a_b.com",
      "é.com",
      `${"a".repeat(64)}.com`,
      `${"a.".repeat(127)}a`,
      "a.com..",
      "a:80",
      "a/b",
      "a.com\r\n",
      "*.a.com",
    ]),
  )("refuses address %j", (v) => expect(isHostOrIp(v)).toBe(false));
  it("route hosts: empty, a host name or *.suffix with a dotted suffix", () => {
    for (const v of ["", "example.com", "*.example.com", "api", "10.0.0.1", "::1", "5", "example.com."]) {
      expect(isRouteHost(v)).toBe(true);
    }
    for (const v of [
      "*.com",
      "*",
      "*.",
      "a.*.com",
      "example.com..",
      "a b",
      "a\r\n",
      "127.0.0.1:80",
      "[::1]",
      "a_b",
    ]) {
      expect(isRouteHost(v)).toBe(false);
    }
    expect(isHostname("example.com.", { trailingDot: true })).toBe(true);
  });
});

describe("ids and URLs", () => {
  it("ids are short runs of letters, digits and . _ ~ -", () => {
    for (const v of ["p1", "l-8080", "0b9e5a4c-7f3e-4c1e-9a51-3c2d1f0e9b7a", "a.b_c~d"])
      expect(isId(v)).toBe(true);
    for (const v of [...HOSTILE, "a:b", "a/b", "a|b", "a b", "x".repeat(129)]) expect(isId(v)).toBe(false);
  });
  it("URL text is printable ASCII URL characters only", () => {
    expect(isUrlText("https://mirror.example.com/pub/%7Eu")).toBe(true);
    for (const v of [
      "http://a/\r\nSet-Cookie: x",
      "http://a/ b",
      "http://a/\tb",
      "http://a/é",
      "http://a/<b>",
      "http://a\\b",
    ]) {
      expect(isUrlText(v)).toBe(false);
    }
  });
});

describe("bounded JSON (policy options)", () => {
  const bounds = { maxDepth: 4, maxNodes: 64, maxStringLength: 256 };
  it("accepts small values", () => {
    expect(jsonWithin({ key: "header", keyName: "X-User", algorithm: "ring" }, bounds)).toBe(true);
    expect(jsonWithin({ a: [1, { b: null }] }, bounds)).toBe(true);
  });
  it("refuses a value nested 5,000 (and 1,000,000) deep without recursing", () => {
    for (const depth of [5, 5_000, 1_000_000]) {
      let v: unknown = {};
      for (let i = 0; i < depth; i++) v = { v };
      expect(jsonWithin(v, bounds)).toBe(false);
    }
  });
  it("refuses too many values, long strings and keys, and non-JSON numbers", () => {
    expect(jsonWithin({ a: new Array(10_000_000).fill(0) }, bounds)).toBe(false);
    expect(jsonWithin(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i])), bounds)).toBe(
      false,
    );
    expect(jsonWithin({ a: "x".repeat(257) }, bounds)).toBe(false);
    expect(jsonWithin({ ["x".repeat(257)]: 1 }, bounds)).toBe(false);
    expect(jsonWithin({ a: Number.NaN }, bounds)).toBe(false);
    expect(jsonWithin({ a: () => 1 }, bounds)).toBe(false);
  });
});

describe("escapeUnprintable", () => {
  it("escapes exactly what isPrintableText refuses (but noncharacters), so a log line stays one line", () => {
    const hostile = "a\r\nb\u0000c\u001bd\u0085e\u2028f\u202eg\u2069h";
    const out = escapeUnprintable(hostile);
    expect(out).toBe("a\\u000d\\u000ab\\u0000c\\u001bd\\u0085e\\u2028f\\u202eg\\u2069h");
    expect(isPrintableText(out, 1000)).toBe(true);
    expect(escapeUnprintable("plain text é ✓")).toBe("plain text é ✓");
  });
});

describe("isLoopbackHost and agentConsoleArgs: plain http only to this machine without the opt-in", () => {
  it.each([
    ["localhost", true],
    ["LOCALHOST.", true],
    ["api.localhost", true],
    ["127.0.0.1", true],
    ["127.255.0.9", true],
    ["[::1]", true],
    ["::1", true],
    ["128.0.0.1", false],
    ["localhost.example.com", false],
    ["10.0.0.1", false],
    ["[::2]", false],
    ["console.example", false],
  ])("%s → %s", (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  it("adds --insecure-console-url to plain http on another host only", () => {
    expect(agentConsoleArgs("http://127.0.0.1:3000")).toBe("--console http://127.0.0.1:3000");
    expect(agentConsoleArgs("https://console.example")).toBe("--console https://console.example");
    expect(agentConsoleArgs("http://console-host:3000")).toBe(
      "--console http://console-host:3000 --insecure-console-url",
    );
  });
});
