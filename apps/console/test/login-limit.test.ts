import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../src/server/domain/actor";
import { callerAs, startTestConsole, type TestConsole } from "./support/console";
import { signIn } from "./support/trpc-http";

const PASSWORD = "correct horse battery";
const users = ["ann", "bob", "cat", "dan"].map((n) => `${n}@example.com`);

/**
 * The login limit over real sign-ins: failures count per client address and
 * account (so people behind one proxy do not lock each other out), a success
 * clears its account's count, and a looser per-address cap stops spraying.
 * All requests come from 127.0.0.1; the tests run in order and add up.
 */
describe("login limit", () => {
  let c: TestConsole;

  beforeAll(async () => {
    c = await startTestConsole({
      FULCRUM_ADMIN_EMAIL: users[0]!,
      FULCRUM_ADMIN_PASSWORD: PASSWORD,
      FULCRUM_LOGIN_RATE_LIMIT: "3",
      FULCRUM_LOGIN_ADDRESS_RATE_LIMIT: "8",
      FULCRUM_LOGIN_WINDOW_SECONDS: "600",
    });
    const user = await c.services.prisma.user.findFirstOrThrow();
    const admin: Actor = { kind: "user", id: user.id, name: user.email, role: "admin" };
    for (const email of users.slice(1)) {
      await callerAs(c, admin).user.create({ name: email, email, password: PASSWORD, role: "viewer" });
    }
  });
  afterAll(async () => {
    await c?.stop();
  });

  const attempt = async (email: string, password: string) => (await signIn(c.url, email, password)).status;

  it("does not count successful sign-ins", async () => {
    for (let i = 0; i < 6; i++) expect(await attempt(users[0]!, PASSWORD)).toBe(200);
  });

  it("locks an account from an address after its failures, not the other accounts behind that address", async () => {
    for (let i = 0; i < 3; i++) expect(await attempt(users[1]!, "wrong password")).toBe(401);
    const locked = await signIn(c.url, users[1]!, PASSWORD);
    expect(locked.status).toBe(429);
    expect(Number(locked.setCookie.length)).toBe(0);
    const again = await fetch(`${c.url}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: users[1], password: PASSWORD }),
    });
    expect(again.status).toBe(429);
    expect(Number(again.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await again.json()).toMatchObject({ error: { code: "TOO_MANY_ATTEMPTS" } });
    // Another person behind the same address signs in as usual.
    expect(await attempt(users[2]!, PASSWORD)).toBe(200);
  });

  it("clears an account's failures from an address when it signs in", async () => {
    for (let i = 0; i < 2; i++) expect(await attempt(users[3]!, "wrong password")).toBe(401);
    expect(await attempt(users[3]!, PASSWORD)).toBe(200);
    // Counting starts afresh: two more mistakes are still below the limit of three.
    for (let i = 0; i < 2; i++) expect(await attempt(users[3]!, "wrong password")).toBe(401);
    expect(await attempt(users[3]!, PASSWORD)).toBe(200);
  });

  it("caps failures from one address across accounts (password spraying)", async () => {
    // So far 3 + 2 + 2 = 7 failures from this address; the cap is 8.
    expect(await attempt("nobody-1@example.com", "wrong password")).toBe(401);
    expect(await attempt("nobody-2@example.com", "wrong password")).toBe(429);
    expect(await attempt(users[2]!, PASSWORD)).toBe(429);
  });
});
