import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { NodeEngine } from "../src/engines/builtin/node-engine";
import { findUnsupported } from "../src/engines/haproxy/validate";
import { createLogger } from "../src/log";
import { freePort, get, type NamedBackend, startBackend } from "./helpers/net";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";

/*
 * ACME HTTP-01 answers (issue 16): the snapshot's acmeChallenges are served by
 * every plain http listener of the builtin engine before routing, through a
 * real engine, a real backend and node:http clients.
 */

const TOKEN = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";
const KEY_AUTH = `${TOKEN}.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI`;

describe("ACME HTTP-01 tokens on plain http listeners", () => {
  let engine: NodeEngine;
  let port: number;
  let app: NamedBackend;
  beforeAll(async () => {
    app = await startBackend("app");
  });
  afterAll(() => app.close());
  beforeEach(async () => {
    engine = new NodeEngine({ log: createLogger("error"), timeouts: { drainGraceMs: 200 } });
    port = await freePort();
  });
  afterEach(() => engine.stop());

  const snapshot = (
    version: number,
    acmeChallenges: Array<{ token: string; keyAuthorization: string; host?: string }>,
    redirect = false,
  ) => ({
    ...makeSnapshot(
      version,
      [httpListener(port, redirect ? { settings: { redirectToHttps: { status: 308, port: 443 } } } : {})],
      [backend("a", app.port)],
    ),
    acmeChallenges,
  });

  it("answers the token with its key authorization as text/plain, before routing; other paths still route", async () => {
    await engine.apply(snapshot(1, [{ token: TOKEN, keyAuthorization: KEY_AUTH }]));
    const seenBefore = app.seen.length;
    const r = await get(port, `/.well-known/acme-challenge/${TOKEN}`, { host: "shop.example.com" });
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("text/plain");
    expect(r.body).toBe(KEY_AUTH);
    expect(app.seen.length).toBe(seenBefore);
    const other = await get(port, "/.well-known/acme-challenge/unknown-token", { host: "shop.example.com" });
    expect(other.body).toBe("app");
    expect((await get(port, "/", { host: "shop.example.com" })).body).toBe("app");
  });

  it("answers even when the listener redirects everything else to https", async () => {
    await engine.apply(snapshot(1, [{ token: TOKEN, keyAuthorization: KEY_AUTH }], true));
    expect((await get(port, `/.well-known/acme-challenge/${TOKEN}`)).body).toBe(KEY_AUTH);
    expect((await get(port, "/x")).status).toBe(308);
  });

  it("keeps a token bound to its host and forgets tokens a newer snapshot drops", async () => {
    await engine.apply(snapshot(1, [{ token: TOKEN, keyAuthorization: KEY_AUTH, host: "a.example.com" }]));
    expect((await get(port, `/.well-known/acme-challenge/${TOKEN}`, { host: "a.example.com:80" })).body).toBe(
      KEY_AUTH,
    );
    expect((await get(port, `/.well-known/acme-challenge/${TOKEN}`, { host: "b.example.com" })).body).toBe(
      "app",
    );
    await engine.apply(snapshot(2, []));
    expect((await get(port, `/.well-known/acme-challenge/${TOKEN}`, { host: "a.example.com" })).body).toBe(
      "app",
    );
  });

  it("the HAProxy engine refuses a snapshot with challenges through the capability table", () => {
    const s = snapshot(1, [{ token: TOKEN, keyAuthorization: KEY_AUTH }]);
    expect(findUnsupported(s).map((u) => u.key)).toContain("acme:http01");
    expect(findUnsupported(snapshot(1, [])).map((u) => u.key)).not.toContain("acme:http01");
  });
});
