import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NodeEngine } from "../src/engines/builtin/node-engine";
import { silentLogger } from "../src/log";
import { type CtlBackend, countBy, startCtlBackend, until } from "./helpers/backends";
import { freePort } from "./helpers/net";
import { backend, httpListener, makeSnapshot, type PoolInput } from "./helpers/snapshot";

let a: CtlBackend;
let b: CtlBackend;
let engine: NodeEngine;
let port: number;

const base = (x: CtlBackend) => `http://127.0.0.1:${x.port}`;

function redirectListener(redirect: { status?: 302 | 307; loopGuard?: string } = {}) {
  return httpListener(port, {
    routes: [
      {
        id: "r-files",
        host: "",
        pathPrefix: "/files",
        priority: 0,
        poolId: "p1",
        action: "redirect",
        redirect,
      },
      { id: "r-site", host: "", pathPrefix: "/", priority: 0, poolId: "p1" },
    ],
  });
}

async function apply(
  backends: Parameters<typeof makeSnapshot>[2],
  opts: {
    version?: number;
    redirect?: { status?: 302 | 307; loopGuard?: string };
    pool?: Partial<PoolInput>;
  } = {},
) {
  await engine.apply(
    makeSnapshot(
      opts.version ?? 1,
      [redirectListener(opts.redirect)],
      backends,
      "round_robin",
      [],
      opts.pool,
    ),
  );
}

/** Follows redirects like a browser or curl -L would. */
const follow = (path: string, init: RequestInit = {}) =>
  fetch(`http://127.0.0.1:${port}${path}`, { redirect: "follow", ...init });

describe.each(["h1", "node"] as const)("redirect routes, %s front end", (frontEnd) => {
  beforeEach(async () => {
    [a, b] = await Promise.all([startCtlBackend("a"), startCtlBackend("b")]);
    engine = new NodeEngine({ log: silentLogger, timeouts: { drainGraceMs: 100 }, httpFrontEnd: frontEnd });
    port = await freePort();
  });

  afterEach(async () => {
    await engine.stop();
    await Promise.all([a.close(), b.close()]);
  });

  it("clients following the redirect land on the backends by the pool's policy, path and query kept", async () => {
    await apply([
      backend("a", a.port, { publicBaseUrl: base(a) }),
      backend("b", b.port, { publicBaseUrl: `${base(b)}/` }),
    ]);
    const names: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await follow("/files/big.iso?v=2");
      expect(r.status).toBe(200);
      expect(r.redirected).toBe(true);
      const u = new URL(r.url);
      expect(u.pathname).toBe("/files/big.iso");
      expect(u.searchParams.get("v")).toBe("2");
      expect(u.searchParams.get("fulcrum_redirected")).toBe("1");
      names.push(await r.text());
    }
    expect(countBy(names)).toEqual(
      new Map([
        ["a", 3],
        ["b", 3],
      ]),
    );
    // Redirects count as 3xx requests on the chosen backends (the live graphs' per-backend series).
    const stats = engine.stats();
    expect(stats.backends[`127.0.0.1:${a.port}`]!.status3xx).toBe(3);
    expect(stats.backends[`127.0.0.1:${b.port}`]!.attempts).toBe(3);
    expect(stats.routes["r-files"]!.responses["3xx"]).toBe(6);
    // Other routes of the listener still proxy.
    const proxied = await follow("/index.html");
    expect(proxied.redirected).toBe(false);
    expect(["a", "b"]).toContain(await proxied.text());
  });

  it("answers 302 or 307 with Location, no-store and no body; 307 keeps the method and body", async () => {
    await apply([backend("a", a.port, { publicBaseUrl: `${base(a)}/pub` })], { redirect: { status: 307 } });
    const r = await fetch(`http://127.0.0.1:${port}/files/x?y=1`, {
      redirect: "manual",
      method: "POST",
      body: "data",
    });
    expect(r.status).toBe(307);
    expect(r.headers.get("location")).toBe(`${base(a)}/pub/files/x?y=1&fulcrum_redirected=1`);
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(await r.text()).toBe("");
    // The balancer never forwarded the request to a backend.
    expect(a.hits).toBe(0);
  });

  it("the loop guard stops a second redirect: a request that already carries it gets 508", async () => {
    // A mis-set public URL pointing back at the balancer itself.
    await apply([backend("a", a.port, { publicBaseUrl: `http://127.0.0.1:${port}` })], {
      redirect: { loopGuard: "seen" },
    });
    const r = await follow("/files/a");
    expect(r.redirected).toBe(true);
    expect(r.status).toBe(508);
    expect(r.headers.get("x-fulcrum-reason")).toBe("redirect-loop");
    expect(new URL(r.url).searchParams.get("seen")).toBe("1");
    expect(engine.stats().routes["r-files"]!.responses["3xx"]).toBe(1);
  });

  it("a backend failing its health checks, or draining, is never chosen; none left is 503", async () => {
    const healthCheck = {
      type: "http" as const,
      intervalMs: 100,
      timeoutMs: 500,
      rise: 1,
      fall: 1,
      path: "/health",
    };
    const both = (bState: "enabled" | "draining" = "enabled") => [
      backend("a", a.port, { publicBaseUrl: base(a) }),
      backend("b", b.port, { publicBaseUrl: base(b), state: bState }),
    ];
    await apply(both(), { pool: { healthCheck } });
    b.healthStatus = 500;
    const bRuntime = () => engine.pool("p1")!.backends.find((x) => x.id === "b")!;
    expect(await until(() => !bRuntime().healthy, 3000)).toBe(true);
    const names: string[] = [];
    for (let i = 0; i < 6; i++) names.push(await (await follow("/files/f")).text());
    expect(new Set(names)).toEqual(new Set(["a"]));

    b.healthStatus = 200;
    await apply(both("draining"), { version: 2, pool: { healthCheck } });
    for (let i = 0; i < 4; i++) expect(await (await follow("/files/f")).text()).toBe("a");

    a.healthStatus = 500;
    const deadline = Date.now() + 3000;
    let r = await follow("/files/f");
    while (r.status !== 503 && Date.now() < deadline) r = await follow("/files/f");
    expect(r.status).toBe(503);
    expect(r.headers.get("x-fulcrum-reason")).toBe("no-backend");
  });

  it("a hand-written snapshot redirecting to a backend without a public URL is refused as a whole", async () => {
    await expect(apply([backend("a", a.port)])).rejects.toThrow(/has no publicBaseUrl/);
  });
});
