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
});
