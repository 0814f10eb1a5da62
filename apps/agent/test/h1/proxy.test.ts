import { request } from "node:http";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import type { AcquireResult, RequestFacts } from "../../src/dataplane/exchange";
import type { H1Server } from "../../src/dataplane/frontends/h1/server";
import { type Backend, FixedPool, raw, startHttpBackend, startProxy, statuses } from "./helpers";

const cleanups: (() => Promise<unknown> | undefined)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(
  handler?: Parameters<typeof startHttpBackend>[0],
  over?: Parameters<typeof startProxy>[1],
): Promise<{ backend: Backend; h1: H1Server; port: number; pool: FixedPool }> {
  const backend = await startHttpBackend(handler);
  const pool = new FixedPool([backend.port]);
  const { h1, port } = await startProxy(pool, over);
  cleanups.push(
    () => backend.close(),
    () => h1.close(0),
  );
  return { backend, h1, port, pool };
}

describe("h1 proxy", () => {
  it("keeps both sides alive: many requests on one client connection use one upstream connection", async () => {
    const { backend, port, pool } = await setup();
    const req = "GET /k HTTP/1.1\r\nHost: a\r\n\r\n";
    const text = await new Promise<string>((resolve) => {
      const s = connectTo(port);
      let got = "";
      let sent = 1;
      s.write(req);
      s.on("data", (c) => {
        got += c.toString();
        const n = statuses(got).length;
        if (n === sent && got.endsWith("ok GET /k")) {
          if (sent === 5) {
            s.destroy();
            resolve(got);
          } else {
            sent++;
            s.write(req);
          }
        }
      });
    });
    expect(statuses(text)).toEqual([200, 200, 200, 200, 200]);
    expect(text).toContain("x-lease: 1");
    expect(backend.connections).toBe(1);
    expect(backend.requests).toBe(5);
    expect(pool.outcomes.filter((o) => o.kind === "response")).toHaveLength(5);
  });

  it("Connection: close: the whole response, then the connection is closed without waiting for the client's FIN", async () => {
    const { h1, port, backend } = await setup();
    // allowHalfOpen: this client does not answer the proxy's FIN with its own; it never ends its side.
    const s = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    s.on("error", () => {});
    cleanups.push(() => void s.destroy());
    let got = "";
    let ended = false;
    s.on("data", (c: Buffer) => {
      got += c.toString();
    });
    s.on("end", () => {
      ended = true;
    });
    s.write("GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    await waitUntil(() => ended);
    expect(statuses(got)).toEqual([200]);
    expect(got).toMatch(/connection: close/i);
    expect(got.endsWith("ok GET /c")).toBe(true);
    // The proxy's socket is gone (not held until the client's FIN or the idle timeout) ...
    await waitUntil(() => h1.connectionCount === 0);
    expect(s.writableEnded).toBe(false);
    // ... and the upstream connection went back to the pool.
    expect(backend.connections).toBe(1);
    expect(h1.upstreams.idleCount).toBe(1);
  });

  it("answers pipelined requests in order", async () => {
    const { port } = await setup((req, res) => {
      req.resume();
      // The first answer is the slowest: order must still hold.
      setTimeout(() => res.end(`path=${req.url}`), req.url === "/1" ? 50 : 0);
    });
    const reqs = [1, 2, 3].map((i) => `GET /${i} HTTP/1.1\r\nHost: a\r\n\r\n`).join("");
    const r = await raw(port, reqs, { done: (t) => t.includes("path=/3") });
    const order = [...r.text.matchAll(/path=\/(\d)/g)].map((m) => m[1]);
    expect(order).toEqual(["1", "2", "3"]);
  });

  it("round-trips a chunked request with extensions and trailers, and a chunked response", async () => {
    const { port } = await setup((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        res.setHeader("trailer", "x-sum");
        res.write(`got:${body}:`);
        res.write(`trailer=${req.trailers["x-t"]}`);
        res.addTrailers({ "x-sum": "42" });
        res.end();
      });
    });
    const body = "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: yes\r\n\r\n";
    const r = await raw(
      port,
      [`POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n`, body.slice(0, 9), body.slice(9)],
      { done: (t) => t.includes("\r\n0\r\nx-sum: 42\r\n\r\n"), gapMs: 10 },
    );
    expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(r.text.toLowerCase()).toContain("transfer-encoding: chunked");
    expect(r.text).toContain("got:hello world:");
    expect(r.text).toContain("trailer=yes");
    expect(r.closed).toBe(false);
  });

  it("forwards a Content-Length body split across packets", async () => {
    const { port } = await setup((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => res.end(`len=${body.length}:${body}`));
    });
    const r = await raw(
      port,
      [
        "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234",
        "56789GET /after HTTP/1.1\r\nHost: a\r\n\r\n",
      ],
      { done: (t) => statuses(t).length === 2 && t.endsWith("len=0:"), gapMs: 20 },
    );
    expect(r.text).toContain("len=10:0123456789");
    expect(statuses(r.text)).toEqual([200, 200]);
  });

  it("sends no body for HEAD, 204 and 304 and keeps the connection usable", async () => {
    const { port } = await setup((req, res) => {
      req.resume();
      if (req.url === "/204") {
        res.statusCode = 204;
        res.end();
      } else if (req.url === "/304") {
        res.statusCode = 304;
        res.end();
      } else {
        res.setHeader("content-length", "5");
        res.end(req.method === "HEAD" ? undefined : "hello");
      }
    });
    const r = await raw(
      port,
      "HEAD /h HTTP/1.1\r\nHost: a\r\n\r\nGET /204 HTTP/1.1\r\nHost: a\r\n\r\nGET /304 HTTP/1.1\r\nHost: a\r\n\r\nGET /last HTTP/1.1\r\nHost: a\r\n\r\n",
      { done: (t) => statuses(t).length === 4 && t.endsWith("hello") },
    );
    expect(statuses(r.text)).toEqual([200, 204, 304, 200]);
    expect(r.text.match(/hello/g)).toHaveLength(1);
  });

  it("passes 100-continue through", async () => {
    const { port } = await setup();
    const r = await raw(
      port,
      ["POST /e HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n", "hi"],
      { done: (t) => t.includes("ok POST /e"), gapMs: 100 },
    );
    expect(statuses(r.text)).toEqual([100, 200]);
  });

  it("closes a slowloris client after the head timeout", async () => {
    const { port, backend } = await setup(undefined, {
      timeouts: { connectMs: 1000, headMs: 300, idleMs: 60_000, responseMs: 1000 },
    });
    const started = Date.now();
    const parts = "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: aaaaaaaaaaaaaaaa\r\n\r\n".split("");
    const r = await raw(port, parts, { gapMs: 40, ms: 3000 });
    expect(r.closed).toBe(true);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(backend.requests).toBe(0);
  });

  it("answers 431 to an oversized head", async () => {
    const { port, backend } = await setup(undefined, { maxHeaderBytes: 1024 });
    const r = await raw(port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"b".repeat(4000)}\r\n\r\n`);
    expect(r.text).toMatch(/^HTTP\/1\.1 431 /);
    expect(r.closed).toBe(true);
    expect(backend.requests).toBe(0);
  });

  it("cuts the client when the backend closes mid-body (no truncated 200 kept alive)", async () => {
    const { port, pool } = await setup((req, res) => {
      req.resume();
      res.writeHead(200, { "content-length": "100" });
      res.write("partial");
      setTimeout(() => res.socket?.destroy(), 30);
    });
    const r = await raw(port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", { ms: 2000 });
    expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(r.text).toContain("partial");
    expect(r.closed).toBe(true);
    expect(pool.outcomes.at(-1)?.kind).toBe("failed-after-response");
  });

  it("answers 502 upstream-connect-failed, 504 on response timeout, 503 when the pool has none", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const dead = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const pool = new FixedPool([dead]);
    pool.retries = 0;
    const { h1, port } = await startProxy(pool);
    cleanups.push(() => h1.close(0));
    const a = await raw(port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", {
      done: (t) => t.endsWith("unreachable\n"),
    });
    expect(a.text).toMatch(/^HTTP\/1\.1 502 /);
    expect(a.text).toContain("x-fulcrum-reason: upstream-connect-failed");
    expect(pool.outcomes[0]?.kind).toBe("connect-failed");

    const silent = await startHttpBackend(() => {});
    cleanups.push(() => silent.close());
    const p2 = new FixedPool([silent.port]);
    const s = await startProxy(p2, {
      timeouts: { connectMs: 1000, headMs: 1000, idleMs: 60_000, responseMs: 200 },
    });
    cleanups.push(() => s.h1.close(0));
    const b = await raw(s.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", {
      done: (t) => t.endsWith("timed out\n"),
    });
    expect(b.text).toMatch(/^HTTP\/1\.1 504 /);
    expect(b.text).toContain("x-fulcrum-reason: upstream-response-timeout");
    expect(p2.outcomes[0]).toMatchObject({ kind: "failed-before-response", timeout: true });

    const none = new FixedPool([]);
    const s3 = await startProxy(none);
    cleanups.push(() => s3.h1.close(0));
    const c = await raw(s3.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", {
      done: (t) => t.endsWith("available\n"),
    });
    expect(c.text).toMatch(/^HTTP\/1\.1 503 /);
    expect(c.text).toContain("x-fulcrum-reason: no-backend");
  });

  it("retries an idempotent request on another backend when the first resets before answering", async () => {
    const resetter = createServer((s: Socket) => s.once("data", () => s.resetAndDestroy()));
    await new Promise<void>((r) => resetter.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => resetter.close(r)));
    const good = await startHttpBackend();
    cleanups.push(() => good.close());
    const pool = new FixedPool([(resetter.address() as AddressInfo).port, good.port]);
    const { h1, port } = await startProxy(pool);
    cleanups.push(() => h1.close(0));
    const r = await raw(port, "GET /r HTTP/1.1\r\nHost: a\r\n\r\n", { done: (t) => t.includes("ok GET /r") });
    expect(statuses(r.text)).toEqual([200]);
    expect(pool.outcomes.map((o) => o.kind)).toEqual(["failed-before-response", "response"]);
  });

  it("sets X-Forwarded-* and drops hop-by-hop fields, keeping framing fields", async () => {
    let seen: Record<string, unknown> = {};
    const { port } = await setup((req, res) => {
      seen = req.headers;
      req.resume();
      req.on("end", () => res.end("x"));
    });
    await raw(
      port,
      "POST / HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\nConnection: x-drop, content-length\r\nX-Drop: 1\r\nKeep-Alive: 5\r\nContent-Length: 2\r\n\r\nab",
      { done: (t) => t.endsWith("x") },
    );
    expect(seen["x-forwarded-for"]).toBe("127.0.0.1");
    expect(seen["x-forwarded-proto"]).toBe("http");
    expect(seen["x-forwarded-host"]).toBe("shop.example");
    expect(seen["x-drop"]).toBeUndefined();
    expect(seen["keep-alive"]).toBeUndefined();
    expect(seen["content-length"]).toBe("2");
    expect(seen.host).toBe("shop.example");
  });

  it("sends each request's own X-Forwarded-Host on a keep-alive connection (the encoded lines are per Host)", async () => {
    const { port } = await setup((req, res) => {
      res.end(`[${req.headers["x-forwarded-host"]}|${req.headers["x-forwarded-for"]}]`);
    });
    const { text } = await raw(
      port,
      "GET / HTTP/1.1\r\nHost: one\r\n\r\nGET / HTTP/1.1\r\nHost: two\r\n\r\nGET / HTTP/1.1\r\nHost: two\r\n\r\nGET / HTTP/1.0\r\n\r\n",
      { done: (t) => statuses(t).length === 4 && t.endsWith("]") },
    );
    expect(text.match(/\[[^\]]*\]/g)).toEqual([
      "[one|127.0.0.1]",
      "[two|127.0.0.1]",
      "[two|127.0.0.1]",
      "[undefined|127.0.0.1]",
    ]);
  });

  it("holds at most maxConnections client connections: one more is closed unanswered, and fits again after one leaves", async () => {
    const { h1, port } = await setup(undefined, { maxConnections: 2 });
    const ask = (s: Socket) =>
      new Promise<string>((resolve) => {
        let got = "";
        const onData = (d: Buffer) => {
          got += d.toString();
          if (got.includes("ok GET /m")) {
            s.off("data", onData);
            resolve(got);
          }
        };
        s.on("data", onData);
        s.write("GET /m HTTP/1.1\r\nHost: a\r\n\r\n");
      });
    const a = connectTo(port);
    const b = connectTo(port);
    expect(statuses(await ask(a))).toEqual([200]);
    expect(statuses(await ask(b))).toEqual([200]);
    expect(h1.connectionCount).toBe(2);
    const c = connectTo(port);
    const closed = await new Promise<string>((resolve) => {
      let got = "";
      c.on("data", (d: Buffer) => {
        got += d.toString();
      });
      c.on("close", () => resolve(got));
      c.write("GET /m HTTP/1.1\r\nHost: a\r\n\r\n");
    });
    expect(closed).toBe("");
    a.destroy();
    await waitUntil(() => h1.connectionCount === 1);
    const d = connectTo(port);
    expect(statuses(await ask(d))).toEqual([200]);
  });

  it("appends to X-Forwarded-For when trustForwarded is set", async () => {
    let xff: unknown;
    const { port } = await setup(
      (req, res) => {
        xff = req.headers["x-forwarded-for"];
        res.end("x");
      },
      { trustForwarded: true },
    );
    await raw(port, "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n", {
      done: (t) => t.endsWith("x"),
    });
    expect(xff).toBe("203.0.113.7, 127.0.0.1");
  });

  it("relays a WebSocket both ways", async () => {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise((r) => wss.once("listening", r));
    cleanups.push(() => new Promise((r) => wss.close(r)));
    wss.on("connection", (ws, req) =>
      ws.on("message", (m) => ws.send(`echo:${m}:${req.headers["x-forwarded-for"]}`)),
    );
    const pool = new FixedPool([(wss.address() as AddressInfo).port]);
    const { h1, port } = await startProxy(pool);
    cleanups.push(() => h1.close(0));
    const client = new WebSocket(`ws://127.0.0.1:${port}/chat`);
    await new Promise((r, j) => {
      client.once("open", r);
      client.once("error", j);
    });
    const reply = new Promise<string>((r) => client.once("message", (m) => r(m.toString())));
    client.send("hi");
    expect(await reply).toBe("echo:hi:127.0.0.1");
    const closed = new Promise((r) => client.once("close", r));
    client.close();
    await closed;
  });

  it("streams a large body intact to a client that reads late (upstream read buffers are reused)", async () => {
    // A raw backend writes an 8 MiB patterned body in pieces; the client stops reading for a
    // while, so the proxy's writes queue and the upstream read buffer must not be overwritten.
    const size = 8 * 1024 * 1024;
    const body = Buffer.alloc(size);
    for (let i = 0; i < size; i++) body[i] = (i * 31 + (i >> 12)) & 0xff;
    const be = createServer((s: Socket) => {
      s.once("data", () => {
        s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`);
        // Small pieces, one per turn: the proxy reads less than a write buffer's high-water mark at a
        // time, so its client writes can stay queued while write() still returns true.
        let o = 0;
        const more = () => {
          if (o >= size) return;
          const n = Math.min(3_000 + (o % 1_500), size - o);
          const ok = s.write(body.subarray(o, o + n));
          o += n;
          if (ok) setImmediate(more);
          else s.once("drain", more);
        };
        more();
      });
    });
    await new Promise<void>((r) => be.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => be.close(r)));
    const pool = new FixedPool([(be.address() as AddressInfo).port]);
    const { h1, port } = await startProxy(pool);
    cleanups.push(() => h1.close(0));
    const got = await new Promise<Buffer>((resolve) => {
      const c = connectTo(port);
      const parts: Buffer[] = [];
      c.pause();
      c.write("GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
      setTimeout(() => c.resume(), 200);
      // Joined once at the end: joining all parts on every read is quadratic over 8 MiB (thousands of
      // small reads), which took longer than the test's timeout on a loaded machine.
      let total = 0;
      let bodyAt = -1;
      c.on("data", (d: Buffer) => {
        parts.push(d);
        total += d.length;
        if (bodyAt === -1) {
          const at = Buffer.concat(parts).indexOf("\r\n\r\n");
          if (at !== -1) bodyAt = at + 4;
        }
        if (bodyAt !== -1 && total - bodyAt >= size) resolve(Buffer.concat(parts).subarray(bodyAt));
      });
    });
    expect(got.length).toBe(size);
    expect(got.equals(body)).toBe(true);
    expect(pool.outcomes.at(-1)).toMatchObject({ kind: "response", status: 200 });
  });

  it("reads a response head that arrives in several pieces, then a body in the same read as the head", async () => {
    const be = createServer((s: Socket) => {
      s.on("data", () => {
        s.write("HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Le");
        setTimeout(() => s.write("ngth: 5\r\nX-B: 2\r\n"), 20);
        setTimeout(() => s.write("\r\nhello"), 40);
      });
    });
    await new Promise<void>((r) => be.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => be.close(r)));
    const pool = new FixedPool([(be.address() as AddressInfo).port]);
    const { h1, port } = await startProxy(pool);
    cleanups.push(() => h1.close(0));
    const req = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    const r = await raw(port, [req, req], {
      done: (t) => (t.match(/hello/g) ?? []).length === 2,
      gapMs: 150,
    });
    expect(statuses(r.text)).toEqual([200, 200]);
    expect(r.text).toContain("X-A: 1\r\nContent-Length: 5\r\nX-B: 2\r\nx-lease: 1\r\n\r\nhello");
  });

  it("closes a client that stalls mid-body for idleMs (checked by the listener's ticker)", async () => {
    const { port, backend } = await setup(undefined, {
      timeouts: { connectMs: 1000, headMs: 1000, idleMs: 300, responseMs: 5000 },
    });
    const started = Date.now();
    const r = await raw(port, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc", { ms: 3000 });
    expect(r.closed).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(backend.requests).toBe(1);
  });

  it("uses a pool's synchronous tryAcquire when it has one, and acquire() when it defers", async () => {
    const backend = await startHttpBackend();
    cleanups.push(() => backend.close());
    const pool = new SyncFixedPool([backend.port]);
    const { h1, port } = await startProxy(pool);
    cleanups.push(() => h1.close(0));
    const req = "GET /s HTTP/1.1\r\nHost: a\r\n\r\n";
    pool.defer = false;
    const a = await raw(port, req, { done: (t) => t.includes("ok GET /s") });
    expect(statuses(a.text)).toEqual([200]);
    expect([pool.syncLeases, pool.asyncCalls]).toEqual([1, 0]);
    pool.defer = true;
    const b = await raw(port, req, { done: (t) => t.includes("ok GET /s") });
    expect(statuses(b.text)).toEqual([200]);
    expect([pool.syncLeases, pool.asyncCalls]).toEqual([1, 1]);
    expect(pool.outcomes.map((o) => o.kind)).toEqual(["response", "response"]);
  });

  it("works for a plain node:http client with HTTP/1.0", async () => {
    const { port } = await setup();
    const r = await raw(port, "GET /old HTTP/1.0\r\n\r\n");
    expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(r.text).toContain("ok GET /old");
    expect(r.closed).toBe(true);
    const viaNode = await new Promise<string>((resolve, reject) => {
      request({ host: "127.0.0.1", port, path: "/n", agent: false }, (res) => {
        let b = "";
        res.on("data", (c) => {
          b += c;
        });
        res.on("end", () => resolve(b));
      })
        .on("error", reject)
        .end();
    });
    expect(viaNode).toBe("ok GET /n");
  });
});

/** A FixedPool with the synchronous fast path; `defer` makes tryAcquire send the caller to acquire(). */
class SyncFixedPool extends FixedPool {
  defer = false;
  syncLeases = 0;
  asyncCalls = 0;
  tryAcquire(_f: RequestFacts, exclude?: ReadonlySet<string>): AcquireResult | undefined {
    if (this.defer) return undefined;
    this.syncLeases++;
    return this.leaseNow(exclude);
  }
  override acquire(f: RequestFacts, opts?: { exclude?: ReadonlySet<string> }): Promise<AcquireResult> {
    this.asyncCalls++;
    return super.acquire(f, opts);
  }
}

function connectTo(port: number): Socket {
  const s = connect(port, "127.0.0.1");
  s.on("error", () => {});
  cleanups.push(() => void s.destroy());
  return s;
}

async function waitUntil(cond: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
