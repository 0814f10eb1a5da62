import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NodeEngine } from "../src/engines/builtin/node-engine";
import { silentLogger } from "../src/log";
import { raw } from "./h1/helpers";
import { freePort, type NamedBackend, startBackend } from "./helpers/net";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";

/**
 * The protocol edges and body limits, through a real agent engine with
 * snapshot listener settings, on both HTTP front ends: the same decisions,
 * the same answers, counted in the listener's stats.
 */
describe.each(["h1", "node"] as const)("%s front end: protocol edges and body limits", (frontEnd) => {
  let a: NamedBackend;
  let engine: NodeEngine;
  let port: number;

  beforeEach(async () => {
    a = await startBackend("a");
    engine = new NodeEngine({ log: silentLogger, timeouts: { drainGraceMs: 100 }, httpFrontEnd: frontEnd });
    port = await freePort();
  });
  afterEach(async () => {
    await engine.stop();
    await a.close();
  });

  const apply = (settings: Record<string, unknown> = {}) =>
    engine.apply(makeSnapshot(1, [httpListener(port, { settings } as never)], [backend("a", a.port)]));
  const listenerStats = () => engine.stats().listeners[`l-${port}`]!;

  it("501 for a transfer coding other than chunked, closed, never forwarded", async () => {
    await apply();
    for (const te of ["gzip, chunked", "identity, chunked"]) {
      const r = await raw(port, `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ${te}\r\n\r\n0\r\n\r\n`);
      expect(r.text, te).toMatch(/^HTTP\/1\.1 501 /);
      expect(r.text.toLowerCase()).toContain("connection: close");
      expect(r.closed).toBe(true);
    }
    expect(a.seen).toHaveLength(0);
  });

  it("absolute-form: routed and forwarded with its authority as Host, in origin-form", async () => {
    await apply();
    const r = await raw(
      port,
      "GET http://shop.example/p?q=1 HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n",
    );
    expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(a.seen).toHaveLength(1);
    expect(a.seen[0]!.url).toBe("/p?q=1");
    expect(a.seen[0]!.headers.host).toBe("shop.example");
    expect(a.seen[0]!.headers["x-forwarded-host"]).toBe("shop.example");
  });

  it("h2c is not forwarded: the backend gets a plain request without Upgrade or HTTP2-Settings", async () => {
    await apply();
    const r = await raw(
      port,
      "GET /h HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
      { done: (t) => t.endsWith("a") },
    );
    expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(a.seen).toHaveLength(1);
    expect(a.seen[0]!.headers.upgrade).toBeUndefined();
    expect(a.seen[0]!.headers["http2-settings"]).toBeUndefined();
  });

  it("maxBodyBytes: 413 by Content-Length before the backend, counted as a 4xx of the listener", async () => {
    await apply({ maxBodyBytes: 16 });
    const r = await raw(port, `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 17\r\n\r\n${"x".repeat(17)}`);
    expect(r.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(r.text).toContain("x-fulcrum-reason: body-too-large");
    expect(r.closed).toBe(true);
    expect(a.seen).toHaveLength(0);
    const s = listenerStats();
    expect(s.requests).toBe(1);
    expect(s.responses["4xx"]).toBe(1);
  });

  it("maxBodyBytes: a chunked body crossing it is cut with 413 and never completes at the backend", async () => {
    await apply({ maxBodyBytes: 16 });
    const r = await raw(
      port,
      [
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n",
        "1\r\nX\r\n0\r\n\r\n",
      ],
      { gapMs: 150 },
    );
    expect(r.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(r.closed).toBe(true);
    for (const req of a.seen) expect(req.complete).toBe(false);
  });

  it("timeouts.bodyMs: a body that stops gets 408, counted, and the upstream request is cut", async () => {
    await apply({ minBodyBytesPerSecond: 0, timeouts: { bodyMs: 300 } });
    const r = await raw(port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01", { ms: 4000 });
    expect(r.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(r.text).toContain("x-fulcrum-reason: body-timeout");
    expect(r.closed).toBe(true);
    const s = listenerStats();
    expect(s.responses["4xx"]).toBe(1);
    for (const req of a.seen) expect(req.complete).toBe(false);
  });

  it("a connection that sent nothing is closed at the head timeout without a word", async () => {
    await apply({ timeouts: { headMs: 500 } });
    const r = await raw(port, [], { ms: 5000 });
    expect(r.closed).toBe(true);
    expect(r.text).toBe("");
  });

  it("a partial request head at the head timeout gets 408", async () => {
    await apply({ timeouts: { headMs: 500 } });
    const r = await raw(port, "GET / HTTP/1.1\r\nHo", { ms: 5000 });
    expect(r.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(r.closed).toBe(true);
  });
});
