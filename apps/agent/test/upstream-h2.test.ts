import { Agent, request } from "node:http";
import {
  createServer as createH2Server,
  type Http2Session,
  constants as h2c,
  type ServerHttp2Stream,
} from "node:http2";
import type { AddressInfo } from "node:net";
import { type Snapshot, snapshotSchema } from "@fulcrum/protocol";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { NodeEngine } from "../src/engines/builtin/node-engine";
import { silentLogger } from "../src/log";
import { sleep, until } from "./helpers/backends";
import { type H2Backend, type SeenH2, startH2Backend } from "./helpers/h2-backend";
import { freePort, get, startBackend } from "./helpers/net";
import { backend, httpListener, makeSnapshot, withPoolTls } from "./helpers/snapshot";
import { makeTestCa, type TestCa } from "./helpers/test-ca";

/*
 * HTTP/2 to backends (issue 18): HTTP/1.1 clients through the builtin
 * engine's node:http front end to real node:http2 backends, h2c and h2 (TLS,
 * ALPN h2, verified against a test CA): translation both ways, trailers,
 * multiplexing under the stream cap and the server's own limit, GOAWAY,
 * retries, timeouts, gRPC answers, sessions closed with their backend.
 */

type Upstream = { protocol: "h2" | "h2c"; maxStreamsPerConnection?: number };

/** `snap` with pool p1 speaking `upstream` to its backends. */
function withUpstream(snap: Snapshot, upstream: Upstream): Snapshot {
  const s = structuredClone(snap) as unknown as { pools: Record<string, unknown>[] };
  s.pools[0]!.upstream = { maxStreamsPerConnection: 100, ...upstream };
  return snapshotSchema.parse(s);
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  trailers: Record<string, string>;
}

/** An HTTP/1.1 request with a chunked body and trailers; the response's trailers are collected. */
function post(
  port: number,
  path: string,
  body: string[],
  opts: { trailers?: Record<string, string>; headers?: Record<string, string>; agent?: Agent } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path,
        agent: opts.agent ?? false,
        headers: {
          "transfer-encoding": "chunked",
          ...(opts.trailers ? { trailer: Object.keys(opts.trailers).join(", ") } : {}),
          ...opts.headers,
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text,
            trailers: res.trailers as Record<string, string>,
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    for (const c of body) req.write(c);
    if (opts.trailers) req.addTrailers(opts.trailers);
    req.end();
  });
}

/** A chunked POST whose chunks go 150 ms apart (the backend sees the first one alone). */
async function postSlowly(
  port: number,
  path: string,
  chunks: string[],
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path,
        agent: false,
        headers: { "transfer-encoding": "chunked" },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    (async () => {
      for (const c of chunks) {
        if (req.destroyed) return;
        req.write(c);
        await sleep(150);
      }
      req.end();
    })().catch(reject);
  });
}

let ca: TestCa;
beforeAll(() => {
  ca = makeTestCa("h2 backend CA");
});
afterAll(() => ca.dispose());

for (const frontEnd of ["h1", "node"] as const)
  describe(`HTTP/2 to backends, ${frontEnd} front end`, () => {
    let engine: NodeEngine;
    let port: number;
    const backends: H2Backend[] = [];
    const start = async (name: string, opts?: Parameters<typeof startH2Backend>[1]) => {
      const b = await startH2Backend(name, opts);
      backends.push(b);
      return b;
    };
    beforeEach(async () => {
      engine = new NodeEngine({ log: silentLogger, httpFrontEnd: frontEnd, timeouts: { drainGraceMs: 200 } });
      port = await freePort();
    });
    afterEach(async () => {
      await engine.stop();
      await Promise.all(backends.splice(0).map((b) => b.close()));
    });

    it("h2c: a Content-Length body that arrives with its head reaches the backend whole", async () => {
      const b = await start("b1");
      await engine.apply(
        withUpstream(makeSnapshot(1, [httpListener(port)], [backend("b1", b.port)]), { protocol: "h2c" }),
      );
      const body = `${"x".repeat(3000)}end`;
      // node:http sends the head and a body given to end() in one write: one read at the proxy.
      const r = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(
          {
            host: "127.0.0.1",
            port,
            method: "POST",
            path: "/echo",
            agent: false,
            headers: { "content-length": String(body.length) },
          },
          (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (c: string) => {
              text += c;
            });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
          },
        );
        req.on("error", reject);
        req.end(body);
      });
      expect(r.status).toBe(200);
      expect((JSON.parse(r.text) as SeenH2).body).toBe(body);
    });

    it("h2c: translates the head, streams the body, carries trailers both ways", async () => {
      const b = await start("b1");
      await engine.apply(
        withUpstream(makeSnapshot(1, [httpListener(port)], [backend("b1", b.port)]), { protocol: "h2c" }),
      );
      const r = await post(port, "/echo?x=1", ["hello ", "world"], {
        trailers: { "x-client-trailer": "yes" },
        headers: {
          host: "app.example:8080",
          "x-custom": "v",
          connection: "keep-alive, x-hop",
          "x-hop": "1",
          cookie: "a=1",
        },
      });
      expect(r.status).toBe(200);
      const seen = JSON.parse(r.body) as SeenH2;
      expect(seen).toMatchObject({
        method: "POST",
        path: "/echo?x=1",
        authority: "app.example:8080",
        scheme: "http",
        body: "hello world",
        trailers: { "x-client-trailer": "yes" },
      });
      expect(seen.headers["x-custom"]).toBe("v");
      expect(seen.headers.cookie).toBe("a=1");
      expect(seen.headers["x-forwarded-for"]).toBe("127.0.0.1");
      // Hop-by-hop fields (and those Connection names) never reach the backend; Host became :authority.
      for (const h of ["connection", "x-hop", "transfer-encoding", "host", "trailer", "keep-alive"]) {
        expect(seen.headers[h]).toBeUndefined();
      }
      expect(r.trailers).toEqual({ "x-backend": "b1" });
    });

    it("h2 over TLS: ALPN h2, the pool's verification and SNI", async () => {
      const cert = ca.sign(
        "h2-backend",
        "h2.backend.test",
        ["DNS:h2.backend.test", "IP:127.0.0.1"],
        "serverAuth",
      );
      const b = await start("tls1", { cert });
      const base = makeSnapshot(1, [httpListener(port)], [backend("b1", b.port)]);
      const tls = withPoolTls(
        base,
        { verify: "ca", caBundleId: "ca", sni: "fixed", sniName: "h2.backend.test" },
        { bundle: ca },
      );
      await engine.apply(withUpstream(tls, { protocol: "h2" }), [], [ca.bundle("ca").material]);
      const r = await get(port, "/echo");
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ scheme: "https", method: "GET", name: "tls1" });

      // The same backend behind a CA it is not signed by: refused at the handshake, 502, never served.
      const other = makeTestCa("other");
      try {
        const bad = withPoolTls(base, { verify: "ca", caBundleId: "other" }, { bundle: other });
        await engine.apply(
          withUpstream({ ...bad, version: 2 }, { protocol: "h2" }),
          [],
          [other.bundle("other").material],
        );
        const r2 = await get(port, "/echo");
        expect(r2.status).toBe(502);
        expect(r2.headers["x-fulcrum-reason"]).toBe("upstream-connect-failed");
      } finally {
        other.dispose();
      }
    });

    it("multiplexes: one connection for sequential requests, another when the stream cap is full", async () => {
      const b = await start("b1");
      await engine.apply(
        withUpstream(makeSnapshot(1, [httpListener(port)], [backend("b1", b.port)]), {
          protocol: "h2c",
          maxStreamsPerConnection: 4,
        }),
      );
      for (let i = 0; i < 5; i++) expect((await get(port, "/")).status).toBe(200);
      expect(b.sessions).toBe(1);
      const all = await Promise.all(Array.from({ length: 12 }, () => get(port, "/slow?ms=300")));
      expect(all.every((r) => r.status === 200)).toBe(true);
      // 12 at once, 4 streams per connection: the warm one and two more.
      expect(b.sessions).toBe(3);
      expect(b.streams).toBe(17);
      const t = engine.h2Upstreams.totals();
      expect(t.opened).toBe(3);
      expect(t.reusedStreams).toBe(14);
    });

    it("honours the server's SETTINGS_MAX_CONCURRENT_STREAMS below the pool's cap", async () => {
      const b = await start("b1", { maxConcurrentStreams: 2 });
      await engine.apply(
        withUpstream(makeSnapshot(1, [httpListener(port)], [backend("b1", b.port)]), { protocol: "h2c" }),
      );
      expect((await get(port, "/")).status).toBe(200);
      const all = await Promise.all(Array.from({ length: 6 }, () => get(port, "/slow?ms=300")));
      expect(all.every((r) => r.status === 200)).toBe(true);
      expect(b.sessions).toBe(3);
    });

    it("GOAWAY: the streams in progress finish, new requests open a new connection", async () => {
      const b = await start("b1");
      await engine.apply(
        withUpstream(makeSnapshot(1, [httpListener(port)], [backend("b1", b.port)]), { protocol: "h2c" }),
      );
      expect((await get(port, "/")).status).toBe(200);
      const slow = get(port, "/slow?ms=400");
      await until(() => b.streams === 2, 2000);
      b.goawayAll();
      await sleep(50);
      expect((await get(port, "/")).status).toBe(200);
      expect((await slow).status).toBe(200);
      expect(b.sessions).toBe(2);
    });

    it("a backend that refuses connections: the request is retried on another (connect-failed counted)", async () => {
      const b = await start("b1");
      const dead = await freePort();
      await engine.apply(
        withUpstream(
          makeSnapshot(
            1,
            [httpListener(port)],
            [backend("dead", dead), backend("b1", b.port)],
            "round_robin",
            [],
            {
              retries: { enabled: true, attempts: 2 },
            },
          ),
          { protocol: "h2c" },
        ),
      );
      for (let i = 0; i < 4; i++) {
        const r = await get(port, "/");
        expect(r.status).toBe(200);
        expect(r.body).toBe("b1");
      }
      const stats = engine.stats();
      expect(stats.backends[`127.0.0.1:${dead}`]?.connectFailures).toBeGreaterThan(0);
    });

    it("times out a slow response head (504), and answers gRPC clients with a gRPC status instead", async () => {
      const b = await start("b1");
      const snap = makeSnapshot(
        1,
        [httpListener(port, { settings: { timeouts: { responseMs: 200 } } } as never)],
        [backend("b1", b.port)],
      );
      await engine.apply(withUpstream(snap, { protocol: "h2c" }));
      const r = await get(port, "/slow?ms=1500");
      expect(r.status).toBe(504);
      expect(r.headers["x-fulcrum-reason"]).toBe("upstream-response-timeout");
      // gRPC requests hear the status in trailers, with HTTP 200 (HTTP/1.1 clients: on a chunked response).
      const grpc = { "content-type": "application/grpc" };
      const g = await post(port, "/slow?ms=1500", [], { headers: grpc });
      expect(g.status).toBe(200);
      expect(g.headers["content-type"]).toBe("application/grpc");
      expect(g.trailers["grpc-status"]).toBe("4");
      // grpc-timeout bounds the wait below the listener's own.
      const d = await post(port, "/slow?ms=1500", [], { headers: { ...grpc, "grpc-timeout": "50m" } });
      expect(d.trailers["grpc-status"]).toBe("4");
      expect(d.headers["x-fulcrum-reason"]).toBe("grpc-deadline-exceeded");
      // The backend gone: UNAVAILABLE, not a 502 page.
      await b.close();
      const gone = await post(port, "/", [], { headers: grpc });
      expect(gone.status).toBe(200);
      expect(gone.trailers["grpc-status"]).toBe("14");
      expect(gone.headers["x-fulcrum-reason"]).toBe("upstream-connect-failed");
    });

    it("one keep-alive client connection over an HTTP/1.1 pool and an HTTP/2 pool, each request counted once", async () => {
      const h2b = await start("h2");
      const h1b = await startBackend("h1");
      try {
        const snap = makeSnapshot(
          1,
          [
            httpListener(port, {
              routes: [
                { id: "r-h2", host: "", pathPrefix: "/two", priority: 1, poolId: "p1" },
                { id: "r-h1", host: "", pathPrefix: "/", priority: 0, poolId: "p2" },
              ],
            }),
          ],
          [backend("b1", h2b.port)],
          "round_robin",
          [{ id: "p2", backends: [backend("h1", h1b.port)] }],
        );
        await engine.apply(withUpstream(snap, { protocol: "h2c" }));
        const client = new Agent({ keepAlive: true, maxSockets: 1 });
        try {
          const paths = ["/one", "/two/a", "/one", "/two/b", "/one"];
          const ports = new Set<number | undefined>();
          for (const p of paths) {
            const r = await get(port, p, { agent: client });
            expect(r.status).toBe(200);
            expect(r.body.startsWith(p.startsWith("/two") ? "h2" : "h1")).toBe(true);
            ports.add(r.localPort);
          }
          expect(ports.size).toBe(1);
        } finally {
          client.destroy();
        }
        const l = engine.stats().listeners[`l-${port}`];
        expect(l?.requests).toBe(5);
        expect(l?.responses["2xx"]).toBe(5);
        expect(l?.totalConnections).toBe(1);
        expect(await until(() => engine.stats().listeners[`l-${port}`]?.activeConnections === 0, 2000)).toBe(
          true,
        );
      } finally {
        await h1b.close();
      }
    });

    it("connection-specific fields in a client's trailers are dropped, never thrown on (the process lives)", async () => {
      const b = await start("b1");
      await engine.apply(
        withUpstream(makeSnapshot(1, [httpListener(port)], [backend("b1", b.port)]), { protocol: "h2c" }),
      );
      // node:http2 throws on each of these in sendTrailers; uncaught, that ended the agent.
      const bad = {
        te: "gzip",
        "keep-alive": "timeout=5",
        upgrade: "h2c",
        "proxy-connection": "x",
        host: "h",
      };
      for (const [name, value] of Object.entries(bad)) {
        const r = await post(port, "/echo", ["a", "b"], { trailers: { [name]: value, "x-ok": "1" } });
        expect(r.status).toBe(200);
        expect((JSON.parse(r.body) as SeenH2).trailers).toEqual({ "x-ok": "1" });
      }
      expect((await get(port, "/")).status).toBe(200);
    });

    it("a repeated single-value request field is the client's 400, not a failure charged to the backend", async () => {
      const b = await start("b1");
      await engine.apply(
        withUpstream(makeSnapshot(1, [httpListener(port)], [backend("b1", b.port)]), { protocol: "h2c" }),
      );
      expect((await get(port, "/")).status).toBe(200);
      for (let i = 0; i < 3; i++) {
        const r = await get(port, "/", { headers: { "user-agent": ["a", "b"] } } as never);
        expect(r.status).toBe(400);
      }
      const s = engine.stats().backends[`127.0.0.1:${b.port}`];
      expect(s?.failuresBeforeResponse).toBe(0);
      // The session's stream count did not leak: it still serves, on the one connection.
      expect((await get(port, "/")).status).toBe(200);
      expect(b.sessions).toBe(1);
      expect(engine.h2Upstreams.totals().streams).toBe(2);
    });

    it("REFUSED_STREAM is retried elsewhere only while no body byte went (never a truncated body)", async () => {
      const refuser = createH2Server();
      let refused = 0;
      const live = new Set<Http2Session>();
      refuser.on("session", (x) => {
        live.add(x);
        x.on("error", () => {});
      });
      refuser.on("stream", (stream: ServerHttp2Stream, h) => {
        stream.on("error", () => {});
        refused++;
        // Unprocessed, by the protocol's word: at once, or after the body's first bytes.
        if (String(h[":path"]).startsWith("/now")) stream.close(h2c.NGHTTP2_REFUSED_STREAM);
        else stream.once("data", () => stream.close(h2c.NGHTTP2_REFUSED_STREAM));
      });
      await new Promise<void>((r) => refuser.listen(0, "127.0.0.1", r));
      const b2 = await start("b2");
      try {
        const rport = (refuser.address() as AddressInfo).port;
        await engine.apply(
          withUpstream(
            makeSnapshot(
              1,
              [httpListener(port)],
              [backend("r", rport), backend("b2", b2.port)],
              "round_robin",
              [],
              { retries: { enabled: true, attempts: 2 } },
            ),
            { protocol: "h2c" },
          ),
        );
        // No body: refused, retried on b2, answered.
        for (let i = 0; i < 2; i++) {
          const r = await get(port, "/now");
          expect(r.status).toBe(200);
          expect(r.body).toBe("b2");
        }
        // A body whose first chunk the refuser read: not sent again with its head cut off.
        const seenBodies: string[] = [];
        const before = refused;
        for (let i = 0; i < 2; i++) {
          const r = await postSlowly(port, "/echo", ["first-", "second"]);
          if (r.status === 200) seenBodies.push((JSON.parse(r.body) as SeenH2).body);
          else expect(r.status).toBe(502);
        }
        expect(refused).toBeGreaterThan(before);
        for (const body of seenBodies) expect(body).toBe("first-second");
      } finally {
        for (const x of live) x.destroy();
        await new Promise<void>((r) => refuser.close(() => r()));
      }
    });

    it("closes a backend's sessions when it leaves the snapshot", async () => {
      const b1 = await start("b1");
      const b2 = await start("b2");
      const snap = makeSnapshot(1, [httpListener(port)], [backend("b1", b1.port), backend("b2", b2.port)]);
      await engine.apply(withUpstream(snap, { protocol: "h2c" }));
      for (let i = 0; i < 4; i++) expect((await get(port, "/")).status).toBe(200);
      expect(b1.open).toBe(1);
      expect(b2.open).toBe(1);
      await engine.apply(
        withUpstream(makeSnapshot(2, [httpListener(port)], [backend("b1", b1.port)]), { protocol: "h2c" }),
      );
      expect(await until(() => b2.open === 0, 2000)).toBe(true);
      expect(b1.open).toBe(1);
      expect((await get(port, "/")).body).toBe("b1");
    });
  });
