import { POLICIES } from "@fulcrum/protocol";
import fc from "fast-check";

/**
 * Pool and backend inputs as a hostile client may send them: every string
 * field that reaches a header, a request line or a log gets control
 * characters, spaces, CR LF, bidi overrides and lone surrogates besides good
 * values, so the console's schemas decide what is accepted.
 */
export const hostileString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.string({ unit: "grapheme", maxLength: 30 }),
  fc.string({
    unit: fc.constantFrom(
      "/",
      "a",
      "Z",
      "0",
      " ",
      "%",
      "?",
      "#",
      "\r",
      "\n",
      "\u0000",
      "é",
      ":",
      ".",
      "-",
      "_",
      "\u202e",
      "\ud800",
      ";",
      "=",
    ),
    maxLength: 20,
  }),
  fc.constantFrom(
    "/a b",
    "a\r\nSet-Cookie: x=1",
    "__Host-s",
    "%zz",
    " /x",
    "x y",
    "/ok?q=1",
    "\u2028",
    "\ufeffx",
  ),
);

const goodPath = fc.constantFrom("/", "/healthz", "/status?full=1", "/a%20b");
const goodToken = fc.constantFrom("X-Session", "sid", "FULCRUM_STICKY", "a.b-c");

/** Small JSON: sometimes beyond the protocol's policyOptions bounds (depth 4, 64 values, 256 characters). */
const json = fc.jsonValue({ maxDepth: 6 });

export const policyOptionsArb = fc.oneof(
  fc.constant({}),
  fc.record(
    {
      key: fc.constantFrom("client_ip", "header", "cookie", "path", "bogus"),
      keyName: fc.oneof(goodToken, hostileString),
      algorithm: fc.constantFrom("ring", "maglev", "other"),
    },
    { requiredKeys: [] },
  ),
  fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.string({ minLength: 60, maxLength: 70 })), json, {
    maxKeys: 5,
  }),
);

export const poolArb = fc.record(
  {
    policy: fc.constantFrom(...POLICIES),
    policyOptions: policyOptionsArb,
    healthCheck: fc.record(
      {
        type: fc.constantFrom("none", "http", "tcp"),
        path: fc.oneof(goodPath, hostileString),
        method: fc.constantFrom("GET", "HEAD", "OPTIONS"),
        expectBody: hostileString,
      },
      { requiredKeys: [] },
    ),
    persistence: fc.record(
      {
        type: fc.constantFrom("none", "cookie", "source_ip"),
        cookieName: fc.oneof(goodToken, hostileString),
        ttlSeconds: fc.integer({ min: 0, max: 700_000 }),
      },
      { requiredKeys: [] },
    ),
    slowStartMs: fc.integer({ min: 0, max: 4_000_000 }),
  },
  { requiredKeys: [] },
);

export const backendArb = fc.record(
  {
    name: fc.oneof(fc.constantFrom("", "alpha", "b-2 (canary)", "café"), hostileString),
    address: fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain(), fc.ipV4Extended(), hostileString),
    port: fc.integer({ min: 1, max: 65535 }),
    weight: fc.integer({ min: 0, max: 256 }),
    state: fc.constantFrom("enabled", "draining", "disabled"),
    backup: fc.boolean(),
    maxConnections: fc.option(fc.integer({ min: 1, max: 1_000_000 })),
    publicBaseUrl: fc.option(fc.oneof(fc.webUrl(), hostileString)),
  },
  { requiredKeys: ["address", "port"] },
);

export const listenerArb = fc.record(
  {
    name: fc.oneof(fc.constantFrom("front", "dns-1", "a.b_c"), hostileString),
    protocol: fc.constantFrom("http", "tcp", "dns"),
    bindAddress: fc.oneof(
      fc.constantFrom("0.0.0.0", "::", "127.0.0.1", "localhost"),
      fc.ipV6(),
      hostileString,
    ),
    port: fc.integer({ min: 1, max: 65535 }),
  },
  { requiredKeys: ["name", "port"] },
);

export const routeArb = fc.record(
  {
    host: fc.oneof(
      fc.constantFrom("", "*.example.com", "EXAMPLE.com.", "10.0.0.1", "::1", "123.example"),
      fc.domain(),
      hostileString,
    ),
    pathPrefix: fc.oneof(fc.constantFrom("/", "/api/", "/a%2Fb", "/~user"), hostileString),
    priority: fc.integer({ min: -1000, max: 1000 }),
    action: fc.constantFrom("proxy", "redirect"),
    redirect: fc.record(
      {
        status: fc.constantFrom(302, 307),
        loopGuard: fc.oneof(fc.constantFrom("seen", "x.y-z"), hostileString),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);
