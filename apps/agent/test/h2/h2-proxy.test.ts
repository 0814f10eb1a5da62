import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { type AddressInfo, createServer as createNetServer, type Server as NetServer } from "node:net";
import { snapshotSchema } from "@fulcrum/protocol";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { NodeEngine } from "../../src/engines/builtin/node-engine";
import { silentLogger } from "../../src/log";
import { countBy, startDelayBackend } from "../helpers/backends";
import { makeCertificate, type TestCertificate } from "../helpers/certs";
import { startH2Backend } from "../helpers/h2-backend";
import { closeSession, h2Request, h2Session } from "../helpers/h2-client";
import { F, frame, literal, rawH2, T } from "../helpers/h2-frames";
import { freePort, get } from "../helpers/net";
import { backend, httpListener, makeSnapshot, withListenerTls } from "../helpers/snapshot";
import { httpsGet } from "../helpers/tls-client";

/*
 * The HTTP/2 front end (issue 18) through real sockets: node:http2 clients
 * (h2c with prior knowledge, and ALPN h2 over TLS) against the builtin
 * engine, real HTTP/1.1 backends that echo what they received.
 */

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  raw: string[];
  body: string;
}

/** A backend answering with its name; it records each request and can answer with trailers (/trailers). */
async function startEcho(name: string): Promise<{ port: number; server: Server; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, raw: req.rawHeaders, body });
      if (req.url === "/trailers") {
        res.writeHead(200, { trailer: "grpc-status", "x-backend": name });
        res.write(name);
        res.addTrailers({ "grpc-status": "0" });
        res.end();
        return;
      }
      res.writeHead(200, { "x-backend": name, connection: "keep-alive", "keep-alive": "timeout=5" });
      res.end(req.method === "POST" ? `${name}:${body}` : name);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as AddressInfo).port, server, seen };
}

let a: Awaited<ReturnType<typeof startEcho>>;
let b: Awaited<ReturnType<typeof startEcho>>;
let cert: TestCertificate;
let engine: NodeEngine;
let port: number;
beforeAll(async () => {
  a = await startEcho("a");
  b = await startEcho("b");
  cert = makeCertificate("h2", ["example.com"]);
});
afterAll(() => {
  a.server.close();
  b.server.close();
});
beforeEach(async () => {
  a.seen.length = 0;
  b.seen.length = 0;
  engine = new NodeEngine({ log: silentLogger, timeouts: { drainGraceMs: 200 } });
  port = await freePort();
});
afterEach(() => engine.stop());

const h2cSnapshot = (version = 1, http2: Record<string, unknown> = { h2c: true }) =>
  makeSnapshot(version, [httpListener(port, { http2 })], [backend("a", a.port), backend("b", b.port)]);

describe("h2c with prior knowledge on a plain listener", () => {
  it("spreads the streams of one connection over the backends, each a request in the statistics", async () => {
    await engine.apply(h2cSnapshot());
    const s = h2Session(`http://127.0.0.1:${port}`);
    try {
      const replies = await Promise.all(
        Array.from({ length: 40 }, () => h2Request(s, { ":path": "/x?q=1", ":authority": "example.com" })),
      );
      expect(replies.every((r) => r.status === 200)).toBe(true);
      // Round robin per stream, not per connection: one connection, both backends, equal shares.
      expect(countBy(replies.map((r) => r.body))).toEqual(
        new Map([
          ["a", 20],
          ["b", 20],
        ]),
      );
    } finally {
      await closeSession(s);
    }
    const l = engine.stats().listeners[`l-${port}`]!;
    expect(l.requests).toBe(40);
    expect(l.responses["2xx"]).toBe(40);
    expect(l.totalConnections).toBe(1);
    expect(engine.stats().pools.p1!.requests).toBe(40);
  });

  it("translates the stream into an HTTP/1.1 request: request line, Host from :authority, cookies joined, no pseudo-headers", async () => {
    await engine.apply(h2cSnapshot());
    const s = h2Session(`http://127.0.0.1:${port}`);
    try {
      await h2Request(s, {
        ":method": "GET",
        ":path": "/p?x=1",
        ":authority": "example.com",
        cookie: ["a=1", "b=2"],
        "x-custom": "v",
      });
    } finally {
      await closeSession(s);
    }
    const seen = a.seen[0]!;
    expect(seen.method).toBe("GET");
    expect(seen.url).toBe("/p?x=1");
    expect(seen.headers.host).toBe("example.com");
    expect(seen.headers.cookie).toBe("a=1; b=2");
    expect(seen.raw.filter((n, i) => i % 2 === 0 && n.toLowerCase() === "cookie")).toHaveLength(1);
    expect(seen.raw.some((n, i) => i % 2 === 0 && n.startsWith(":"))).toBe(false);
    expect(seen.headers["x-custom"]).toBe("v");
    expect(seen.headers["x-forwarded-proto"]).toBe("http");
    expect(seen.headers["x-forwarded-for"]).toBe("127.0.0.1");
  });

  it("forwards request bodies, with and without content-length, and drops the backend's hop-by-hop fields", async () => {
    await engine.apply(h2cSnapshot());
    const s = h2Session(`http://127.0.0.1:${port}`);
    try {
      const sized = await h2Request(
        s,
        { ":method": "POST", ":path": "/", "content-length": "5", ":authority": "x" },
        "hello",
      );
      const unsized = await h2Request(s, { ":method": "POST", ":path": "/", ":authority": "x" }, "world!");
      expect([sized.body, unsized.body].sort()).toEqual(["a:hello", "b:world!"]);
      expect(sized.headers["keep-alive"]).toBeUndefined();
      expect(sized.headers.connection).toBeUndefined();
    } finally {
      await closeSession(s);
    }
    const posts = [...a.seen, ...b.seen];
    expect(posts.map((p) => p.headers["content-length"] ?? p.headers["transfer-encoding"]).sort()).toEqual([
      "5",
      "chunked",
    ]);
  });

  it("passes a backend's chunked trailers on as HTTP/2 trailers", async () => {
    await engine.apply(h2cSnapshot());
    const s = h2Session(`http://127.0.0.1:${port}`);
    try {
      const r = await h2Request(s, { ":path": "/trailers", ":authority": "x" });
      expect(r.status).toBe(200);
      expect(r.trailers?.["grpc-status"]).toBe("0");
    } finally {
      await closeSession(s);
    }
  });

  it("serves many streams one after another on one connection without piling up listeners", async () => {
    await engine.apply(h2cSnapshot());
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on("warning", onWarning);
    const s = h2Session(`http://127.0.0.1:${port}`);
    try {
      for (let i = 0; i < 15; i++)
        expect((await h2Request(s, { ":path": "/", ":authority": "x" })).status).toBe(200);
    } finally {
      await closeSession(s);
      process.off("warning", onWarning);
    }
    expect(warnings).not.toContain("MaxListenersExceededWarning");
  });

  it("cookie persistence per stream: the first answer sets the cookie, streams sending it stay on that backend", async () => {
    await engine.apply(
      makeSnapshot(
        1,
        [httpListener(port, { http2: { h2c: true } })],
        [backend("a", a.port), backend("b", b.port)],
        "round_robin",
        [],
        { persistence: { type: "cookie", cookieName: "STICK" } },
      ),
    );
    const s = h2Session(`http://127.0.0.1:${port}`);
    try {
      const first = await h2Request(s, { ":path": "/", ":authority": "x" });
      const setCookie = String(first.headers["set-cookie"] ?? "");
      expect(setCookie).toMatch(/^STICK=/);
      const cookie = setCookie.split(";")[0]!;
      const later = await Promise.all(
        Array.from({ length: 8 }, () =>
          h2Request(s, { ":path": "/", ":authority": "x", cookie: [cookie, "other=1"] }),
        ),
      );
      expect(new Set(later.map((r) => r.body))).toEqual(new Set([first.body]));
    } finally {
      await closeSession(s);
    }
  });

  it("pool limits per stream: one connection per backend, the other streams queue and are served in turn, the overflow gets 503", async () => {
    const slow = await startDelayBackend("slow");
    slow.delayMs = 300;
    try {
      await engine.apply(
        makeSnapshot(
          1,
          [httpListener(port, { http2: { h2c: true } })],
          [backend("slow", slow.port)],
          "round_robin",
          [],
          { limits: { maxConnectionsPerBackend: 1, queueSize: 3, queueTimeoutMs: 5000 } },
        ),
      );
      const s = h2Session(`http://127.0.0.1:${port}`);
      try {
        const replies = await Promise.all(
          Array.from({ length: 6 }, () => h2Request(s, { ":path": "/", ":authority": "x" })),
        );
        const statuses = replies.map((r) => r.status).sort();
        // 1 in flight + 3 queued are served; 2 find the queue full.
        expect(statuses).toEqual([200, 200, 200, 200, 503, 503]);
        expect(
          replies
            .filter((r) => r.status === 503)
            .every((r) => r.headers["x-fulcrum-reason"] === "queue-full"),
        ).toBe(true);
      } finally {
        await closeSession(s);
      }
      expect(slow.maxInFlight).toBe(1);
      expect(engine.stats().pools.p1!.queueFull).toBe(2);
    } finally {
      await slow.close();
    }
  });

  it("keeps serving HTTP/1.1 on the same listener", async () => {
    await engine.apply(h2cSnapshot());
    const r1 = await get(port, "/");
    const r2 = await get(port, "/");
    expect([r1.body, r2.body].sort()).toEqual(["a", "b"]);
  });

  it("answers no-route and no-backend itself, the stream ending and the connection staying open", async () => {
    await engine.apply(
      makeSnapshot(
        1,
        [httpListener(port, { http2: { h2c: true } })],
        [backend("a", a.port, { state: "disabled" })],
      ),
    );
    const s = h2Session(`http://127.0.0.1:${port}`);
    try {
      const r = await h2Request(s, { ":path": "/", ":authority": "x" });
      expect(r.status).toBe(503);
      expect(r.headers["x-fulcrum-reason"]).toBe("no-backend");
      const again = await h2Request(s, { ":path": "/", ":authority": "x" });
      expect(again.status).toBe(503);
    } finally {
      await closeSession(s);
    }
    expect(engine.stats().listeners[`l-${port}`]!.totalConnections).toBe(1);
  });

  it("retries an idempotent stream on another backend when the first refuses the connection", async () => {
    const dead = await freePort();
    await engine.apply(
      makeSnapshot(
        1,
        [httpListener(port, { http2: { h2c: true } })],
        [backend("dead", dead), backend("a", a.port)],
        "round_robin",
        [],
        { retries: { enabled: true, attempts: 1 } },
      ),
    );
    const s = h2Session(`http://127.0.0.1:${port}`);
    try {
      const replies = await Promise.all(
        Array.from({ length: 4 }, () => h2Request(s, { ":path": "/", ":authority": "x" })),
      );
      expect(replies.map((r) => r.body)).toEqual(["a", "a", "a", "a"]);
    } finally {
      await closeSession(s);
    }
    expect(engine.stats().pools.p1!.retries).toBeGreaterThan(0);
  });

  it("is off without h2c: the preface is an HTTP/1.1 request the listener refuses", async () => {
    await engine.apply(h2cSnapshot(1, { h2c: false }));
    const s = h2Session(`http://127.0.0.1:${port}`);
    try {
      await expect(h2Request(s, { ":path": "/", ":authority": "x" })).rejects.toThrow();
    } finally {
      s.destroy();
    }
    expect(a.seen.length + b.seen.length).toBe(0);
  });
});

describe("HTTP/2 end to end: an h2c client through a pool speaking h2c to its backends", () => {
  it("carries each stream to a backend stream, trailers both ways, spread over the backends", async () => {
    const x = await startH2Backend("x");
    const y = await startH2Backend("y");
    try {
      const snap = structuredClone(
        makeSnapshot(
          1,
          [httpListener(port, { http2: { h2c: true } })],
          [backend("x", x.port), backend("y", y.port)],
        ),
      ) as unknown as { pools: Record<string, unknown>[] };
      snap.pools[0]!.upstream = { protocol: "h2c" };
      await engine.apply(snapshotSchema.parse(snap));
      const s = h2Session(`http://127.0.0.1:${port}`);
      try {
        const replies = await Promise.all(
          Array.from({ length: 10 }, () =>
            h2Request(s, { ":method": "POST", ":path": "/echo", ":authority": "example.com" }, "hi"),
          ),
        );
        const seen = replies.map(
          (r) => JSON.parse(r.body) as { name: string; body: string; authority: string },
        );
        expect(countBy(seen.map((v) => v.name))).toEqual(
          new Map([
            ["x", 5],
            ["y", 5],
          ]),
        );
        expect(seen.every((v) => v.body === "hi" && v.authority === "example.com")).toBe(true);
        expect(
          replies.every((r) => r.trailers?.["x-backend"] === "x" || r.trailers?.["x-backend"] === "y"),
        ).toBe(true);
      } finally {
        await closeSession(s);
      }
      expect(x.sessions + y.sessions).toBe(2);
      expect(engine.stats().listeners[`l-${port}`]!.requests).toBe(10);
    } finally {
      await x.close();
      await y.close();
    }
  });
});

describe("ALPN h2 on a TLS listener", () => {
  const tlsSnapshot = (http2: Record<string, unknown> | null) =>
    withListenerTls(
      makeSnapshot(
        1,
        [httpListener(port, http2 ? { http2 } : {})],
        [backend("a", a.port), backend("b", b.port)],
      ),
      cert,
    );

  it("serves h2 to clients that offer it and HTTP/1.1 to the others, HSTS and X-Forwarded-Proto https on both", async () => {
    const snap = tlsSnapshot({ h2: true });
    (snap.listeners[0] as { tls: { hsts?: unknown } }).tls.hsts = {
      maxAgeSeconds: 600,
      includeSubDomains: false,
      preload: false,
    };
    await engine.apply(snap, [cert.material]);
    const s = h2Session(`https://127.0.0.1:${port}`, "example.com");
    try {
      const r = await h2Request(s, { ":path": "/", ":authority": "example.com" });
      expect(r.status).toBe(200);
      expect(s.alpnProtocol).toBe("h2");
      expect(r.headers["strict-transport-security"]).toMatch(/max-age=600/);
      const missing = await h2Request(s, { ":path": "/", ":authority": "nowhere.test" });
      expect(missing.status).toBe(200);
    } finally {
      await closeSession(s);
    }
    expect(a.seen[0]!.headers["x-forwarded-proto"]).toBe("https");
    const h1 = await httpsGet(port, "example.com");
    expect(h1.status).toBe(200);
  });

  it("offers only http/1.1 when the listener has no http2", async () => {
    await engine.apply(tlsSnapshot(null), [cert.material]);
    const s = h2Session(`https://127.0.0.1:${port}`, "example.com");
    try {
      await expect(h2Request(s, { ":path": "/", ":authority": "example.com" })).rejects.toThrow();
    } finally {
      s.destroy();
    }
  });
});

/**
 * A backend built on node:net writing raw HTTP/1.1 responses, so it can send
 * what node:http would refuse to: the response is chosen by the request path.
 * Records each request head (the raw text).
 */
async function startRawBackend(): Promise<{ port: number; server: NetServer; heads: string[] }> {
  const heads: string[] = [];
  const answers: Record<string, string> = {
    "/dup-content-type":
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nok",
    "/dup-location": "HTTP/1.1 302 Found\r\nLocation: /a\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n",
    "/dup-etag": 'HTTP/1.1 200 OK\r\nETag: "1"\r\nETag: "2"\r\nContent-Length: 2\r\n\r\nok',
    "/status-799": "HTTP/1.1 799 Odd\r\nContent-Length: 2\r\n\r\nok",
    "/dup-trailer":
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: etag\r\n\r\n2\r\nok\r\n0\r\nETag: "1"\r\nETag: "2"\r\n\r\n',
    "/cut": "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc",
  };
  const server = createNetServer((sock) => {
    let buf = "";
    sock.on("error", () => {});
    sock.on("data", (c: Buffer) => {
      buf += c.toString("latin1");
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = buf.slice(0, end);
      buf = "";
      heads.push(head);
      const path = head.split(" ")[1]!;
      const answer = answers[path] ?? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
      sock.write(answer, () => sock.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as AddressInfo).port, server, heads };
}

describe("hostile backend responses and header order, to HTTP/2 clients", () => {
  let raw: Awaited<ReturnType<typeof startRawBackend>>;
  beforeAll(async () => {
    raw = await startRawBackend();
  });
  afterAll(() => raw.server.close());
  const rawSnapshot = (http2: Record<string, unknown> = { h2c: true }) =>
    makeSnapshot(1, [httpListener(port, { http2 })], [backend("r", raw.port)]);

  it("answers 502 for a status node:http2 cannot send or a repeated single-value field; the connection keeps serving", async () => {
    await engine.apply(rawSnapshot());
    const s = h2Session(`http://127.0.0.1:${port}`);
    try {
      for (const path of ["/dup-content-type", "/dup-location", "/dup-etag", "/status-799"]) {
        const r = await h2Request(s, { ":path": path, ":authority": "example.com" });
        expect([path, r.status]).toEqual([path, 502]);
      }
      const ok = await h2Request(s, { ":path": "/fine", ":authority": "example.com" });
      expect(ok.status).toBe(200);
      expect(ok.body).toBe("ok");
    } finally {
      await closeSession(s);
    }
    const l = engine.stats().listeners[`l-${port}`]!;
    expect(l.responses["5xx"]).toBe(4);
    expect(l.totalConnections).toBe(1);
  });

  it("keeps the first value of a single-value trailer sent twice", async () => {
    await engine.apply(rawSnapshot());
    const s = h2Session(`http://127.0.0.1:${port}`);
    try {
      const r = await h2Request(s, { ":path": "/dup-trailer", ":authority": "example.com" });
      expect(r.status).toBe(200);
      expect(r.body).toBe("ok");
      expect(r.trailers?.etag).toBe('"1"');
    } finally {
      await closeSession(s);
    }
  });

  it("passes Host on when there is no :authority, wherever Host stands in the header list", async () => {
    await engine.apply(rawSnapshot());
    const c = await rawH2(port);
    try {
      const block = Buffer.concat([
        literal(":method", "GET"),
        literal(":scheme", "http"),
        literal(":path", "/host"),
        literal("x-first", "1"),
        literal("host", "late.example"),
      ]);
      c.write(frame(T.HEADERS, F.END_STREAM | F.END_HEADERS, 1, block));
      expect(await c.waitFor(() => c.answered().has(1))).toBe(true);
    } finally {
      c.socket.destroy();
    }
    const head = raw.heads.find((h) => h.startsWith("GET /host "))!;
    const hosts = head.split("\r\n").filter((l) => l.toLowerCase().startsWith("host:"));
    expect(hosts).toEqual(["host: late.example"]);
  });

  it("does not take streams it resets itself (a backend dying mid-body) for a client's rapid reset", async () => {
    // maxConcurrentStreams 10: a budget of 20 resets, refilled 10 a second; 30 cuts would spend it.
    await engine.apply(rawSnapshot({ h2c: true, maxConcurrentStreams: 10 }));
    const s = h2Session(`http://127.0.0.1:${port}`);
    let goaway: number | undefined;
    s.on("goaway", (code: number) => (goaway = code));
    try {
      await new Promise((r) => s.once("remoteSettings", r));
      const cuts: PromiseSettledResult<unknown>[] = [];
      for (let batch = 0; batch < 3; batch++) {
        const ten = Array.from({ length: 10 }, () =>
          h2Request(s, { ":path": "/cut", ":authority": "example.com" }),
        );
        cuts.push(...(await Promise.allSettled(ten)));
      }
      expect(
        cuts.map((r) => (r.status === "rejected" ? String((r.reason as Error).message) : "answered")),
      ).toEqual(
        // a cut body is reset with INTERNAL_ERROR, never taken for a whole one
        Array.from({ length: 30 }, () => "Stream closed with error code NGHTTP2_INTERNAL_ERROR"),
      );
      const ok = await h2Request(s, { ":path": "/fine", ":authority": "example.com" });
      expect(ok.status).toBe(200);
    } finally {
      await closeSession(s);
    }
    expect(goaway).toBeUndefined();
  });
});
