import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConsoleConfig } from "../src/server/config";
import type { Actor } from "../src/server/domain/actor";
import { callerAs, startTestConsole, type TestConsole } from "./support/console";
import { rawRequest } from "./support/raw-http";

const ADMIN = { email: "admin@example.com", password: "correct horse battery" };
const MB = 1024 * 1024;

/** JSON text of objects nested `depth` deep (built as text: JSON.stringify itself recurses). */
function nested(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

/**
 * Every input edge of the console is bounded: bodies per endpoint (small for
 * anonymous callers), tRPC batches, JSON nesting and slow requests, against a
 * real console over real sockets.
 */
describe("request limits at the console's HTTP edge", () => {
  let c: TestConsole;
  let host: string;
  let token: string;
  let clusterId: string;

  beforeAll(async () => {
    c = await startTestConsole({
      FULCRUM_ADMIN_EMAIL: ADMIN.email,
      FULCRUM_ADMIN_PASSWORD: ADMIN.password,
      FULCRUM_HEADERS_TIMEOUT_MS: "2000",
      FULCRUM_REQUEST_TIMEOUT_MS: "4000",
    });
    host = new URL(c.url).host;
    const user = await c.services.prisma.user.findFirstOrThrow({ where: { role: "admin" } });
    const admin: Actor = { kind: "user", id: user.id, name: user.email, role: "admin" };
    token = (await callerAs(c, admin).token.create({ name: "limits", role: "operator" })).secret;
    clusterId = (await c.services.prisma.cluster.findFirstOrThrow()).id;
  });
  afterAll(async () => {
    await c?.stop();
  });

  it("stops reading 50 MB anonymous bodies at the limit (413, connection closed) and keeps serving meanwhile", async () => {
    const uploads = [
      "/api/trpc/setup.createAdmin",
      "/api/auth/sign-in/email",
      "/api/trpc/setup.createAdmin",
    ].map((path) =>
      rawRequest(
        c.url,
        `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
        { bodyBytes: 50 * MB, chunked: true },
      ),
    );
    const health = await fetch(`${c.url}/api/health`);
    expect(health.status).toBe(200);
    for (const upload of await Promise.all(uploads)) {
      expect(upload.status).toBe(413);
      expect(upload.response).toMatch(/connection: close/i);
      expect(upload.response).toContain('"code":"PAYLOAD_TOO_LARGE"');
      // The server hung up long before 50 MB went out: it never read the body whole.
      expect(upload.closedEarly).toBe(true);
      expect(upload.bodyBytesSent).toBeLessThan(25 * MB);
    }
    expect(await c.services.prisma.user.count()).toBe(1);
  });

  it("refuses a declared Content-Length over the limit before reading any of the body", async () => {
    const res = await rawRequest(
      c.url,
      `POST /api/auth/sign-in/email HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${200 * MB}\r\n\r\n`,
      { bodyBytes: 0, chunked: false },
    );
    expect(res.status).toBe(413);
    expect(res.bodyBytesSent).toBe(0);
    expect(res.response).toMatch(/connection: close/i);
  });

  it("lets a signed-in caller send more than an anonymous one, up to its own limit", async () => {
    // Whitespace is valid JSON: a well-formed input of any size.
    const body = (bytes: number) =>
      `${JSON.stringify({ json: { clusterId, name: "big" } })}${" ".repeat(bytes)}`;
    const post = (text: string, headers: Record<string, string> = {}) =>
      fetch(`${c.url}/api/trpc/pool.create`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: text,
      });
    // 64 KiB: over the anonymous 16 KiB, within the signed-in 1 MiB.
    expect((await post(body(64 * 1024))).status).toBe(413);
    const within = await post(body(64 * 1024), { authorization: `Bearer ${token}` });
    expect(within.status).toBe(200);
    const over = await rawRequest(
      c.url,
      `POST /api/trpc/pool.create HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
      { bodyBytes: 50 * MB, chunked: true },
    );
    expect(over.status).toBe(413);
    expect(over.closedEarly).toBe(true);
  });

  it("bounds the agent enrollment body too", async () => {
    const res = await fetch(`${c.url}/api/agents/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: "x".repeat(32 * 1024) }),
    });
    expect(res.status).toBe(413);
  });

  it("refuses a tRPC batch of more than 50 calls with a clear 400, and takes 50", async () => {
    const batch = (n: number) =>
      fetch(`${c.url}/api/trpc/${Array(n).fill("setup.me").join(",")}?batch=1`, {
        headers: { authorization: `Bearer ${token}` },
      });
    const big = await batch(1000);
    expect(big.status).toBe(400);
    expect(await big.json()).toMatchObject({
      error: { code: "BATCH_TOO_LARGE", message: "A batch may hold at most 50 calls; this one has 1000." },
    });
    expect((await batch(51)).status).toBe(400);
    expect((await batch(50)).status).toBe(200);
  });

  it("refuses JSON nested 5,000 deep with 400 (never a stack overflow), in a body or a query", async () => {
    const deep = `{"json":{"clusterId":"${clusterId}","name":"deep","policyOptions":${nested(5000)}}}`;
    const res = await fetch(`${c.url}/api/trpc/pool.create`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: deep,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "JSON_TOO_DEEP" } });
    const query = await fetch(
      `${c.url}/api/trpc/pool.list?input=${encodeURIComponent(`{"json":${nested(100)}}`)}`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    expect(query.status).toBe(400);
    const signIn = await fetch(`${c.url}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"email":${nested(1000)},"password":"x"}`,
    });
    expect(signIn.status).toBe(400);
    // 30 levels of options are no problem for the edge (the pool's own schema then judges them).
    const fine = await fetch(`${c.url}/api/trpc/pool.create`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: `{"json":{"clusterId":"${clusterId}","name":"shallow","policyOptions":${nested(20)}}}`,
    });
    expect(fine.status).not.toBe(500);
    expect(await c.services.prisma.pool.count({ where: { name: "deep" } })).toBe(0);
  });

  it("closes a request whose body trickles past the request timeout with 408", async () => {
    const res = await rawRequest(
      c.url,
      `POST /api/trpc/setup.createAdmin HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"json":`,
      { bodyBytes: 0, chunked: false, timeoutMs: 30_000 },
    );
    expect(res.status).toBe(408);
  });
});

describe("limit settings", () => {
  const base = { NODE_ENV: "test", FULCRUM_SECRET: "s".repeat(40), FULCRUM_DATA_DIR: "memory://" } as const;

  it("have defaults", () => {
    const config = loadConsoleConfig({ ...base }, { dev: false });
    expect(config.http).toEqual({
      anonymousBodyBytes: 16 * 1024,
      bodyBytes: MB,
      maxBatch: 50,
      maxJsonDepth: 32,
      headersTimeoutMs: 20_000,
      requestTimeoutMs: 60_000,
    });
    expect(config.login).toEqual({ maxFailuresPerAccount: 5, maxFailuresPerAddress: 50, windowMs: 60_000 });
  });

  it("refuse anything but decimal digits in range, naming the setting", () => {
    for (const value of ["0x50", "1e6", "", " 5", "-1", "1.5", "99999999999999999"]) {
      expect(() => loadConsoleConfig({ ...base, FULCRUM_BODY_LIMIT: value }, { dev: false })).toThrow(
        /FULCRUM_BODY_LIMIT must be a whole number from 65536 to 67108864 \(bytes\)/,
      );
    }
    expect(() => loadConsoleConfig({ ...base, PORT: "0x50" }, { dev: false })).toThrow(
      /PORT must be a whole number/,
    );
    expect(() =>
      loadConsoleConfig(
        { ...base, FULCRUM_HEADERS_TIMEOUT_MS: "30000", FULCRUM_REQUEST_TIMEOUT_MS: "10000" },
        { dev: false },
      ),
    ).toThrow(/FULCRUM_REQUEST_TIMEOUT_MS must be at least FULCRUM_HEADERS_TIMEOUT_MS/);
  });
});
