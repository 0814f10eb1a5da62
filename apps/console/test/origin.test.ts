import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../src/server/domain/actor";
import { callerAs, startTestConsole, type TestConsole } from "./support/console";
import { signIn } from "./support/trpc-http";

const ADMIN = { email: "admin@example.com", password: "correct horse battery" };

/**
 * Writes authenticated by the session cookie must come from the console's own
 * origin (CSRF defence in depth behind SameSite=Lax); API tokens are exempt.
 */
describe("origin check on cookie-authenticated writes", () => {
  let c: TestConsole;
  let cookie: string;
  let token: string;
  let clusterId: string;

  beforeAll(async () => {
    c = await startTestConsole({ FULCRUM_ADMIN_EMAIL: ADMIN.email, FULCRUM_ADMIN_PASSWORD: ADMIN.password });
    cookie = (await signIn(c.url, ADMIN.email, ADMIN.password)).cookie;
    const user = await c.services.prisma.user.findFirstOrThrow();
    const admin: Actor = { kind: "user", id: user.id, name: user.email, role: "admin" };
    token = (await callerAs(c, admin).token.create({ name: "ci", role: "operator" })).secret;
    clusterId = (await c.services.prisma.cluster.findFirstOrThrow()).id;
  });
  afterAll(async () => {
    await c?.stop();
  });

  const createPool = (name: string, headers: Record<string, string>) =>
    fetch(`${c.url}/api/trpc/pool.create`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ json: { clusterId, name } }),
    });
  const pools = () => c.services.prisma.pool.count();

  it("refuses a write from another origin with 403 CROSS_ORIGIN and changes nothing", async () => {
    const before = await pools();
    const senders: Array<Record<string, string>> = [
      { origin: "https://evil.example" },
      { origin: "null" },
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
      { referer: "https://evil.example/page" },
      { origin: "https://evil.example", referer: `${c.url}/pools` },
    ];
    for (const headers of senders) {
      const res = await createPool("csrf", { cookie, ...headers });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: "CROSS_ORIGIN" } });
    }
    expect(await pools()).toBe(before);
  });

  it("takes writes from the console's own pages", async () => {
    const url = new URL(c.url);
    const localhost = `http://localhost:${url.port}`;
    expect((await createPool("same-origin", { cookie, origin: c.url })).status).toBe(200);
    expect((await createPool("localhost", { cookie, origin: localhost })).status).toBe(200);
    expect((await createPool("fetch-site", { cookie, "sec-fetch-site": "same-origin" })).status).toBe(200);
    expect((await createPool("referer", { cookie, referer: `${c.url}/pools` })).status).toBe(200);
  });

  it("exempts API tokens, which no page can send on someone's behalf", async () => {
    const res = await createPool("token", {
      authorization: `Bearer ${token}`,
      origin: "https://elsewhere.example",
    });
    expect(res.status).toBe(200);
  });

  it("lets reads through from anywhere (the browser keeps their answers from the other page)", async () => {
    const res = await fetch(`${c.url}/api/trpc/setup.me`, {
      headers: { cookie, origin: "https://evil.example" },
    });
    expect(res.status).toBe(200);
  });

  it("guards better-auth's endpoints too (sign-out, sign-in)", async () => {
    const signOut = await fetch(`${c.url}/api/auth/sign-out`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie, origin: "https://evil.example" },
      body: "{}",
    });
    expect(signOut.status).toBe(403);
    const me = await fetch(`${c.url}/api/trpc/setup.me`, { headers: { cookie } });
    expect(me.status).toBe(200);
  });
});
