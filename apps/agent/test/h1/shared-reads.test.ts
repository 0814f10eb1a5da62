import { createHash, randomBytes } from "node:crypto";
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { FixedPool, startHttpBackend, startProxy, statuses } from "./helpers";

// Every client connection reads into one shared buffer (dataplane/sockets/accept.ts). These
// tests keep bytes of one connection alive across other connections' reads:
// a partial head, a body start waiting for an upstream connect, body bytes
// queued behind a slow backend. Any of them not copied out would be
// overwritten by the noise traffic and show up as a garbled request or body.

const cleanups: (() => Promise<unknown> | undefined)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Sends `data` on a raw connection (in `pieces` writes, `gapMs` apart) and resolves with everything read until close. */
function exchange(port: number, data: Buffer, pieces = 1, gapMs = 0): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1");
    const got: Buffer[] = [];
    s.on("error", reject);
    s.on("data", (d: Buffer) => got.push(d));
    s.on("close", () => resolve(Buffer.concat(got).toString("latin1")));
    const size = Math.ceil(data.length / pieces);
    let i = 0;
    const next = () => {
      if (i >= data.length) return;
      s.write(data.subarray(i, i + size));
      i += size;
      if (gapMs > 0) setTimeout(next, gapMs);
      else next();
    };
    next();
  });
}

/** `count` keep-alive GETs, pipelined, each with its own tag; the last one closes. */
function noise(port: number, id: number, count: number): Promise<string> {
  let reqs = "";
  for (let i = 0; i < count; i++) {
    const close = i === count - 1 ? "Connection: close\r\n" : "";
    reqs += `GET /noise/${id}/${i} HTTP/1.1\r\nHost: a\r\nX-Tag: ${"n".repeat(200)}${id}-${i}\r\n${close}\r\n`;
  }
  return exchange(port, Buffer.from(reqs), 4, 1);
}

describe("h1 shared client read buffer", () => {
  it("keeps a partial head, a waiting body start and queued body bytes intact while other connections read", async () => {
    const backend = await startHttpBackend((req, res) => {
      if (req.method === "POST") {
        // A slow reader at first: the proxy's upstream writes queue behind it.
        req.pause();
        setTimeout(() => req.resume(), 300);
        const parts: Buffer[] = [];
        req.on("data", (d: Buffer) => parts.push(d));
        req.on("end", () => {
          const body = Buffer.concat(parts);
          res.end(`${body.length} ${sha(body)}`);
        });
        return;
      }
      req.resume();
      res.end(`ok ${req.url} ${req.headers["x-tag"]}`);
    });
    const pool = new FixedPool([backend.port]);
    const { h1, port } = await startProxy(pool);
    cleanups.push(
      () => backend.close(),
      () => h1.close(0),
    );

    const body = randomBytes(4 * 1024 * 1024);
    // Head and body start in one write, on a proxy with no upstream connection yet: the body
    // start waits for the connect; the rest streams behind the slow backend.
    const upload = exchange(
      port,
      Buffer.concat([
        Buffer.from(
          `POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
        ),
        body,
      ]),
    );
    // A head trickling in over ~100 reads.
    const slowHead = exchange(
      port,
      Buffer.from(
        `GET /slow/head HTTP/1.1\r\nHost: a\r\nX-Tag: ${"s".repeat(300)}end\r\nConnection: close\r\n\r\n`,
      ),
      100,
      3,
    );
    const noisy = Array.from({ length: 12 }, (_, id) => noise(port, id, 40));

    const up = await upload;
    expect(statuses(up)).toEqual([200]);
    expect(up.endsWith(`${body.length} ${sha(body)}`)).toBe(true);

    const slow = await slowHead;
    expect(statuses(slow)).toEqual([200]);
    expect(slow.endsWith(`ok /slow/head ${"s".repeat(300)}end`)).toBe(true);

    const texts = await Promise.all(noisy);
    texts.forEach((t, id) => {
      expect(statuses(t)).toEqual(Array(40).fill(200));
      for (let i = 0; i < 40; i++) expect(t).toContain(`ok /noise/${id}/${i} ${"n".repeat(200)}${id}-${i}`);
    });
  }, 30_000);

  it("sends body bytes that came with their head, and the pipelined requests behind them, each to its own exchange", async () => {
    const backend = await startHttpBackend((req, res) => {
      const parts: Buffer[] = [];
      req.on("data", (d: Buffer) => parts.push(d));
      req.on("end", () => {
        const body = Buffer.concat(parts);
        res.end(`${req.method} ${req.url} ${body.length} ${sha(body)}`);
      });
    });
    const pool = new FixedPool([backend.port]);
    const { h1, port } = await startProxy(pool);
    cleanups.push(
      () => backend.close(),
      () => h1.close(0),
    );
    // One write per connection: POSTs whose bodies end exactly where the next request starts,
    // a GET between them and a last POST that closes. Each body goes upstream inside its
    // head's Buffer (request-body carried from the shared read buffer); what follows it must
    // stay for the next exchange, untouched by the other connections' reads.
    const conn = (id: number) => {
      const bodies = [randomBytes(4096), randomBytes(100 + id), randomBytes(1)];
      const msgs: Buffer[] = [];
      bodies.forEach((b, i) => {
        msgs.push(
          Buffer.from(`POST /p/${id}/${i} HTTP/1.1\r\nHost: a\r\nContent-Length: ${b.length}\r\n\r\n`),
          b,
        );
        if (i === 0) msgs.push(Buffer.from(`GET /g/${id} HTTP/1.1\r\nHost: a\r\n\r\n`));
      });
      msgs.push(
        Buffer.from(
          `POST /p/${id}/last HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close\r\n\r\nend`,
        ),
      );
      return { bodies, reply: exchange(port, Buffer.concat(msgs)) };
    };
    const conns = Array.from({ length: 8 }, (_, id) => conn(id));
    const noisy = Array.from({ length: 6 }, (_, id) => noise(port, 100 + id, 20));
    for (const [id, c] of conns.entries()) {
      const t = await c.reply;
      expect(statuses(t)).toEqual([200, 200, 200, 200, 200]);
      for (const [i, b] of c.bodies.entries())
        expect(t).toContain(`POST /p/${id}/${i} ${b.length} ${sha(b)}`);
      expect(t).toContain(`GET /g/${id} 0 `);
      expect(t.endsWith(`POST /p/${id}/last 3 ${sha(Buffer.from("end"))}`)).toBe(true);
    }
    for (const t of await Promise.all(noisy)) expect(statuses(t)).toEqual(Array(20).fill(200));
  }, 30_000);
});
