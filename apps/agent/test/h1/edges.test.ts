import { type AddressInfo, connect, createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { H1Options } from "../../src/dataplane/frontends/h1/options";
import type { H1Server } from "../../src/dataplane/frontends/h1/server";
import { type Backend, FixedPool, raw, startHttpBackend, startProxy } from "./helpers";

/** Protocol edges of the h1 front end, each over real sockets to a real node:http backend. */

let backend: Backend | undefined;
let h1: H1Server | undefined;

afterEach(async () => {
  await h1?.close(0);
  await backend?.close();
  h1 = undefined;
  backend = undefined;
});

/** A backend that answers with what it received: method, URL and headers as JSON. */
async function echo(
  over: Partial<Omit<H1Options, "timeouts">> & { timeouts?: Partial<H1Options["timeouts"]> } = {},
) {
  const seen: { aborted: number; bodies: string[] } = { aborted: 0, bodies: [] };
  backend = await startHttpBackend((req, res) => {
    let body = "";
    req.setEncoding("latin1");
    req.on("data", (c: string) => {
      body += c;
    });
    req.on("error", () => {});
    req.on("aborted", () => seen.aborted++);
    req.on("close", () => {
      if (!req.complete) seen.aborted++;
    });
    req.on("end", () => {
      seen.bodies.push(body);
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.rawHeaders }));
    });
  });
  const p = await startProxy(new FixedPool([backend.port]), over);
  h1 = p.h1;
  return { port: p.port, seen };
}

const jsonBody = (text: string) =>
  JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)) as {
    method: string;
    url: string;
    headers: string[];
  };

describe("absolute-form request targets (RFC 9112 §3.2.2)", () => {
  it("are routed on their authority and reach the backend in origin-form with the authority as Host", async () => {
    const { port } = await echo();
    const r = await raw(
      port,
      "GET http://Shop.Example:8080/a/b?q=1 HTTP/1.1\r\nHost: ignored\r\nConnection: close\r\n\r\n",
    );
    expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
    const seen = jsonBody(r.text);
    expect(seen.url).toBe("/a/b?q=1");
    const host = seen.headers.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    expect(host.filter((n) => n === "host")).toHaveLength(1);
    expect(seen.headers[seen.headers.findIndex((n) => n.toLowerCase() === "host") + 1]).toBe(
      "Shop.Example:8080",
    );
    expect(seen.headers[seen.headers.indexOf("X-Forwarded-Host") + 1]).toBe("Shop.Example:8080");
  });

  it("an empty path becomes /", async () => {
    const { port } = await echo();
    const r = await raw(port, "GET http://a?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    expect(jsonBody(r.text).url).toBe("/?x=1");
  });
});

describe("Upgrade: h2c", () => {
  it("is not forwarded to an HTTP/1.1 backend, nor HTTP2-Settings: the request is served as plain HTTP/1.1", async () => {
    const { port } = await echo();
    const r = await raw(
      port,
      "GET /u HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
      { done: (t) => t.includes("}") },
    );
    expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
    const names = jsonBody(r.text).headers.map((h) => h.toLowerCase());
    expect(names).not.toContain("upgrade");
    expect(names).not.toContain("http2-settings");
    expect(names.join(" ")).not.toContain("h2c");
  });

  it("listed with websocket, only h2c is taken out of Upgrade", async () => {
    const rec = await recorder();
    const p = await startProxy(new FixedPool([rec.port]));
    h1 = p.h1;
    await raw(
      p.port,
      "GET /u HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c, websocket\r\n\r\n",
      {
        done: (t) => t.includes("\r\n\r\n"),
      },
    );
    rec.close();
    expect(rec.heads).toHaveLength(1);
    expect(rec.heads[0]).toContain("\r\nUpgrade: websocket\r\n");
    expect(rec.heads[0]).not.toContain("h2c");
    expect(rec.heads[0]).toContain("\r\nConnection: upgrade\r\n");
  });
});

/** A raw backend recording the request heads it receives; answers 200 and closes. */
async function recorder(): Promise<{ port: number; heads: string[]; close(): void }> {
  const heads: string[] = [];
  const server = createServer((s) => {
    s.on("error", () => {});
    let buf = "";
    s.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      const end = buf.indexOf("\r\n\r\n");
      if (end === -1) return;
      heads.push(buf.slice(0, end + 4));
      s.end("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as AddressInfo).port, heads, close: () => server.close() };
}

describe("slow request heads", () => {
  it("get 408 and a close when part of a head came in before the head timeout", async () => {
    const { port } = await echo({ timeouts: { headMs: 300 } });
    const r = await raw(port, "GET / HTTP/1.1\r\nHo", { ms: 3000 });
    expect(r.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(r.text).toContain("x-fulcrum-reason: head-timeout");
    expect(r.text.toLowerCase()).toContain("connection: close");
    expect(r.closed).toBe(true);
  });

  it("a connection that sent nothing is closed without a word", async () => {
    const { port } = await echo({ timeouts: { headMs: 300 } });
    const r = await raw(port, [], { ms: 3000 });
    expect(r.closed).toBe(true);
    expect(r.text).toBe("");
  });
});

describe("request bodies", () => {
  it("over maxBodyBytes by Content-Length: 413 before any backend sees the request", async () => {
    const { port } = await echo({ maxBodyBytes: 10 });
    const r = await raw(port, `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n${"x".repeat(11)}`);
    expect(r.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(r.text).toContain("x-fulcrum-reason: body-too-large");
    expect(r.closed).toBe(true);
    expect(backend!.requests).toBe(0);
    const ok = await raw(
      port,
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789",
    );
    expect(ok.text).toMatch(/^HTTP\/1\.1 200 /);
  });

  it("a chunked body crossing maxBodyBytes: 413, and the backend never gets a complete request", async () => {
    const { port, seen } = await echo({ maxBodyBytes: 10 });
    const r = await raw(
      port,
      [
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n",
        "8\r\n89abcdef\r\n0\r\n\r\n",
      ],
      { gapMs: 100 },
    );
    expect(r.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(r.closed).toBe(true);
    expect(seen.bodies).toEqual([]);
  });

  it("a body that pauses longer than bodyMs: 408 and the upstream request is cut", async () => {
    const { port, seen } = await echo({ minBodyBytesPerSecond: 0, timeouts: { bodyMs: 300 } });
    const r = await raw(port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01", { ms: 4000 });
    expect(r.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(r.text).toContain("x-fulcrum-reason: body-timeout");
    expect(r.closed).toBe(true);
    expect(seen.bodies).toEqual([]);
    await new Promise((res) => setTimeout(res, 100));
    expect(seen.aborted).toBeGreaterThan(0);
  });

  it("a body trickling below minBodyBytesPerSecond after the 5 s grace: 408", async () => {
    const { port } = await echo({ minBodyBytesPerSecond: 100, timeouts: { bodyMs: 60_000 } });
    const parts: string[] = ["POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n"];
    for (let i = 0; i < 40; i++) parts.push("x");
    const started = Date.now();
    const r = await raw(port, parts, { gapMs: 250, ms: 12_000 });
    expect(r.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(r.text).toContain("x-fulcrum-reason: body-too-slow");
    expect(Date.now() - started).toBeGreaterThanOrEqual(4900);
  }, 20_000);

  it("a body that stops after the response started: the connection is cut", async () => {
    backend = await startHttpBackend((req, res) => {
      req.on("error", () => {});
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("early");
    });
    const p = await startProxy(new FixedPool([backend.port]), {
      minBodyBytesPerSecond: 0,
      timeouts: { bodyMs: 300 },
    });
    h1 = p.h1;
    const r = await raw(p.port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01", { ms: 4000 });
    expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(r.text).not.toContain("408");
    expect(r.closed).toBe(true);
  });

  it("a client waiting for 100 Continue is not on the body clock until the backend asks for the body", async () => {
    backend = await startHttpBackend((req, res) => {
      let body = "";
      req.setEncoding("latin1");
      req.on("data", (c: string) => {
        body += c;
      });
      req.on("end", () => res.end(`got ${body}`));
    });
    // The backend takes longer than bodyMs to ask for the body.
    const server = backend.server;
    server.on("checkContinue", (req, res) => {
      setTimeout(() => {
        res.writeContinue();
        server.emit("request", req, res);
      }, 800);
    });
    const p = await startProxy(new FixedPool([backend.port]), {
      minBodyBytesPerSecond: 0,
      timeouts: { bodyMs: 300 },
    });
    h1 = p.h1;
    const text = await new Promise<string>((resolve) => {
      const s = connect(p.port, "127.0.0.1");
      let t = "";
      s.on("error", () => {});
      s.on("data", (d: Buffer) => {
        t += d.toString("latin1");
        if (t.includes("100 Continue") && !t.includes("sent")) {
          t += "sent";
          s.write("ok");
        }
        if (t.includes("got ok") || t.includes(" 408 ")) s.destroy();
      });
      s.on("close", () => resolve(t));
      s.write("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
      setTimeout(() => s.destroy(), 5000);
    });
    expect(text).toMatch(/^HTTP\/1\.1 100 Continue/);
    expect(text).toContain("got ok");
  });
});
