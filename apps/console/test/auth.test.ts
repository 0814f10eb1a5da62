import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestConsole, type TestConsole } from "./support/console";
import { httpCaller, signIn } from "./support/trpc-http";

const ADMIN = { name: "Ada", email: "ada@example.com", password: "correct horse battery" };

describe("sign-in, sessions, roles and API tokens over real HTTP", () => {
  let c: TestConsole;
  let admin: ReturnType<typeof httpCaller>;
  let clusterId: string;

  beforeAll(async () => {
    c = await startTestConsole({ FULCRUM_LOGIN_RATE_LIMIT: "20" });
  });
  afterAll(async () => {
    await c?.stop();
  });

  it("sends every page to /setup until the first admin exists", async () => {
    const health = await (await fetch(`${c.url}/api/health`)).json();
    expect(health).toMatchObject({ ok: true, needsSetup: true });
    const res = await fetch(`${c.url}/pools`, { redirect: "manual" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/setup");
  });

  it("creates the first admin once, then refuses a second setup", async () => {
    const anon = httpCaller(c.url);
    const first = await anon.mutate("setup.createAdmin", ADMIN);
    expect(first.status).toBe(200);
    const second = await anon.mutate("setup.createAdmin", { ...ADMIN, email: "mallory@example.com" });
    expect(second.status).toBe(409);
    expect(second.error?.message).toMatch(/already has an admin/);
    expect(await c.services.prisma.user.count()).toBe(1);
    expect(await c.services.prisma.cluster.findFirst({ where: { name: "default" } })).not.toBeNull();
  });

  it("signs in with an httpOnly SameSite cookie and knows the role", async () => {
    const wrong = await signIn(c.url, ADMIN.email, "not the password");
    expect(wrong.status).toBe(401);
    const ok = await signIn(c.url, ADMIN.email, ADMIN.password);
    expect(ok.status).toBe(200);
    const session = ok.setCookie.find((s) => s.startsWith("fulcrum.session_token="));
    expect(session).toMatch(/HttpOnly/i);
    expect(session).toMatch(/SameSite=Lax/i);
    admin = httpCaller(c.url, { cookie: ok.cookie });
    const me = await admin.query("setup.me");
    expect(me.data).toMatchObject({ role: "admin", name: ADMIN.email });
    const page = await fetch(`${c.url}/pools`, { redirect: "manual", headers: { cookie: ok.cookie } });
    expect(page.status).toBe(404); // past the gate; this test process serves no pages
    clusterId = ((await admin.query("cluster.list")).data as Array<{ id: string }>)[0]!.id;
    // The password is stored as a slow hash, never in clear.
    const account = await c.services.prisma.account.findFirst({ where: { providerId: "credential" } });
    expect(account?.password).not.toContain(ADMIN.password);
    expect(account?.password?.length).toBeGreaterThan(60);
  });

  it("ends a session at once when an admin revokes it, and refuses disabled users", async () => {
    const created = await admin.mutate("user.create", {
      name: "Otto",
      email: "otto@example.com",
      password: "operator password",
      role: "operator",
    });
    const otto = created.data as { id: string };
    const login = await signIn(c.url, "otto@example.com", "operator password");
    const asOtto = httpCaller(c.url, { cookie: login.cookie });
    expect((await asOtto.mutate("pool.create", { clusterId, name: "otto-pool" })).status).toBe(200);
    expect(
      (await asOtto.mutate("user.create", { name: "x", email: "x@example.com", password: "0123456789ab" }))
        .status,
    ).toBe(403);

    expect((await admin.mutate("user.revokeSessions", { userId: otto.id })).status).toBe(200);
    expect((await asOtto.query("setup.me")).status).toBe(401);

    await admin.mutate("user.update", { id: otto.id, disabled: true });
    expect((await signIn(c.url, "otto@example.com", "operator password")).status).not.toBe(200);
    await admin.mutate("user.update", { id: otto.id, disabled: false });
    expect((await signIn(c.url, "otto@example.com", "operator password")).status).toBe(200);
  });

  it("keeps the last admin", async () => {
    const users = (await admin.query("user.list")).data as Array<{ id: string; email: string }>;
    const ada = users.find((u) => u.email === ADMIN.email)!;
    const res = await admin.mutate("user.update", { id: ada.id, role: "viewer" });
    expect(res.status).toBe(409);
    expect(res.error?.message).toMatch(/last enabled admin/);
  });

  it("lets a viewer-scoped API token read but not write, until it is revoked", async () => {
    const created = await admin.mutate("token.create", { name: "dashboards", role: "viewer" });
    const token = created.data as { id: string; secret: string };
    expect(token.secret).toMatch(/^fk_/);
    const bot = httpCaller(c.url, { authorization: `Bearer ${token.secret}` });
    expect((await bot.query("pool.list", { clusterId })).status).toBe(200);
    const write = await bot.mutate("pool.create", { clusterId, name: "bot-pool" });
    expect(write.status).toBe(403);
    expect(await c.services.prisma.pool.count({ where: { name: "bot-pool" } })).toBe(0);
    await admin.mutate("token.revoke", { id: token.id });
    expect((await bot.query("pool.list", { clusterId })).status).toBe(401);
    const junk = httpCaller(c.url, { authorization: "Bearer fk_not-a-token" });
    expect((await junk.query("pool.list", { clusterId })).status).toBe(401);
  });
});

describe("login rate limit", () => {
  let c: TestConsole;
  beforeAll(async () => {
    c = await startTestConsole({ FULCRUM_LOGIN_RATE_LIMIT: "3" });
    await httpCaller(c.url).mutate("setup.createAdmin", ADMIN);
  });
  afterAll(async () => {
    await c?.stop();
  });

  it("answers 429 after the allowed attempts, even with the right password", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await signIn(c.url, ADMIN.email, "wrong password!")).status);
    expect(statuses).toEqual([401, 401, 401]);
    expect((await signIn(c.url, ADMIN.email, ADMIN.password)).status).toBe(429);
  });
});

describe("first admin from the environment", () => {
  let c: TestConsole;
  beforeAll(async () => {
    c = await startTestConsole({
      FULCRUM_ADMIN_EMAIL: "Ops@Example.com",
      FULCRUM_ADMIN_PASSWORD: "bootstrap password",
    });
  });
  afterAll(async () => {
    await c?.stop();
  });

  it("creates the admin at start, so automation needs no setup page", async () => {
    const health = await (await fetch(`${c.url}/api/health`)).json();
    expect(health).toMatchObject({ needsSetup: false });
    const login = await signIn(c.url, "ops@example.com", "bootstrap password");
    expect(login.status).toBe(200);
    const me = await httpCaller(c.url, { cookie: login.cookie }).query("setup.me");
    expect(me.data).toMatchObject({ role: "admin" });
  });
});
