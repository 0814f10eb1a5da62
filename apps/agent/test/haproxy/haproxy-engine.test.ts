import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { Agent, request } from "node:http";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HealthEvent } from "@fulcrum/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HaproxyEngine } from "../../src/engines/haproxy/haproxy-engine";
import { parseShowProc, runtimeCommand } from "../../src/engines/haproxy/runtime-api";
import { silentLogger } from "../../src/log";
import { type CtlBackend, startCtlBackend } from "../helpers/backends";
import { freePort, get } from "../helpers/net";
import { BIN, be, http, pool, snap } from "./fixtures";

/** Newer HAProxy closes idle keep-alive connections gracefully on reload; 2.6.12 does not. */
const supportsIdleClose = (() => {
  try {
    execFileSync(BIN, ["-c", "-q", "-f", "/dev/stdin"], {
      input: "global\n  idle-close-on-response\n",
      stdio: "pipe",
    });
    return true;
  } catch {
    return false;
  }
})();

let dir: string;
let engine: HaproxyEngine;
let backends: CtlBackend[];
let port: number;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "haproxy-engine-"));
  engine = new HaproxyEngine({ log: silentLogger, stateDir: dir, bin: BIN, statsIntervalMs: 200 });
  backends = [await startCtlBackend("a"), await startCtlBackend("b")];
  port = await freePort();
});

afterEach(async () => {
  await engine.stop();
  await Promise.all(backends.map((b) => b.close()));
  await rm(dir, { recursive: true, force: true });
});

const twoBackends = (version: number, over: { a?: object; b?: object } = {}, poolOver = {}) =>
  snap(
    version,
    [http("web", port, "p1")],
    [
      pool("p1", [be("a", backends[0]!.port, over.a), be("b", backends[1]!.port, over.b)], {
        policy: "weighted_round_robin",
        ...poolOver,
      }),
    ],
  );

async function proc() {
  const p = parseShowProc(await runtimeCommand(engine.files.masterSocket, "show proc"));
  if (!p) throw new Error("no show proc answer");
  return p;
}

async function bodies(n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await get(port, "/")).body);
  return out;
}

/** GET / → status; a failure on a reused keep-alive socket is marked `reused`. */
function getOnce(agent: Agent | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path: "/", agent: agent ?? false, timeout: 10_000 },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      },
    );
    req.on("error", (e: Error & { reused?: boolean }) => {
      e.reused = req.reusedSocket;
      reject(e);
    });
    req.on("timeout", () => req.destroy(new Error("test request timed out")));
    req.end();
  });
}

async function until<T>(
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as T;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("HAProxy engine", () => {
  it("serves a pushed snapshot and reports its traffic in the builtin engine's stats shape", async () => {
    await engine.apply(twoBackends(1));
    expect(engine.applied?.version).toBe(1);
    expect(new Set(await bodies(6))).toEqual(new Set(["a", "b"]));
    expect((await get(port, "/", { headers: { "x-forwarded-for": "6.6.6.6" } })).status).toBe(200);

    const stats = await until(() => {
      const s = engine.stats();
      return (s.listeners.web?.requests ?? 0) >= 7 ? s : false;
    });
    expect(stats.listeners.web?.responses["2xx"]).toBeGreaterThanOrEqual(7);
    expect(stats.pools.p1?.requests).toBeGreaterThanOrEqual(7);
    expect(stats.backends[`127.0.0.1:${backends[0]!.port}`]?.status2xx).toBeGreaterThanOrEqual(3);
    expect(await readFile(engine.files.configPath, "utf8")).toContain(`bind 127.0.0.1:${port}`);
  });

  it("changes weight and drain through the runtime API: same HAProxy worker, no reload", async () => {
    const events: HealthEvent[] = [];
    engine.onHealthEvent((e) => events.push(e));
    await engine.apply(twoBackends(1));
    const before = await proc();

    await engine.apply(twoBackends(2, { a: { weight: 0 } }));
    expect(new Set(await bodies(6))).toEqual(new Set(["b"]));

    await engine.apply(twoBackends(3, { a: { weight: 1 }, b: { state: "draining" } }));
    expect(new Set(await bodies(6))).toEqual(new Set(["a"]));
    await until(() => events.find((e) => e.state === "drained" && e.backendId === "b"));

    await engine.apply(twoBackends(4, { b: { state: "disabled" } }));
    expect(new Set(await bodies(4))).toEqual(new Set(["a"]));

    const after = await proc();
    expect(after.reloads).toBe(before.reloads);
    expect(after.workers).toEqual(before.workers);
    expect(engine.applied?.version).toBe(4);
    // The file follows the runtime state, so a later reload keeps it.
    expect(await readFile(engine.files.configPath, "utf8")).toMatch(/server b_b \S+ weight 1 disabled/);
  });

  it("reloads hitlessly on a structural change: no failed request under load", async () => {
    await engine.apply(twoBackends(1));
    const before = await proc();
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 4 });
    let ok = 0;
    const failures: string[] = [];
    let running = true;
    let retriedOnIdleSocket = 0;
    const worker = async (agent: Agent | undefined) => {
      while (running) {
        try {
          const r = await getOnce(agent).catch((e: Error & { reused?: boolean }) => {
            // HAProxy 2.6.12 closes idle keep-alive connections on reload; a request that
            // met such a close on a reused socket was never processed, and HTTP lets the
            // client retry it (RFC 9112 9.3.1), as Node's docs advise (request.reusedSocket).
            if (!e.reused) throw e;
            retriedOnIdleSocket++;
            return getOnce(agent);
          });
          if (r === 200) ok++;
          else failures.push(`status ${r}`);
        } catch (e) {
          failures.push(`${agent ? "keep-alive" : "new connection"}: ${(e as Error).message}`);
        }
      }
    };
    const load = [worker(keepAlive), worker(keepAlive), worker(undefined), worker(undefined)];
    await until(() => ok > 50);
    const c = await startCtlBackend("c");
    backends.push(c);
    // A new backend and a new health check: structure, so a reload.
    const v2 = snap(
      2,
      [http("web", port, "p1")],
      [pool("p1", [be("a", backends[0]!.port), be("b", backends[1]!.port), be("c", c.port)])],
    );
    await engine.apply(v2);
    const okAtReload = ok;
    await until(() => ok > okAtReload + 50);
    running = false;
    await Promise.all(load);
    keepAlive.destroy();

    expect(failures).toEqual([]);
    if (supportsIdleClose) expect(retriedOnIdleSocket).toBe(0);
    const after = await proc();
    expect(after.reloads).toBe(before.reloads + 1);
    expect(after.workers).not.toEqual(before.workers);
    expect(new Set(await bodies(9))).toEqual(new Set(["a", "b", "c"]));
  });

  it("NACKs what HAProxy cannot express and keeps serving the previous snapshot", async () => {
    await engine.apply(twoBackends(1));
    await expect(engine.apply(twoBackends(2, {}, { policy: "least_response_time" }))).rejects.toMatchObject({
      code: "engine_unsupported",
      message: expect.stringMatching(/least_response_time.*latency-aware/),
    });
    await expect(
      engine.apply(twoBackends(3, {}, { outlierDetection: { enabled: true } })),
    ).rejects.toMatchObject({
      code: "engine_unsupported",
    });
    expect(engine.applied?.version).toBe(1);
    expect((await get(port, "/")).status).toBe(200);
  });

  it("keeps the last good config when haproxy -c refuses the new one or a reload cannot bind", async () => {
    await engine.apply(twoBackends(1));
    const good = await readFile(engine.files.configPath, "utf8");
    const bad = snap(
      2,
      [http("web", port, "p1", { bindAddress: "no-such-host.invalid" })],
      twoBackends(1).pools,
    );
    await expect(engine.apply(bad)).rejects.toMatchObject({ code: "haproxy_config_rejected" });
    expect(await readFile(engine.files.configPath, "utf8")).toBe(good);

    // A port someone else holds passes haproxy -c but fails the reload: the old worker keeps serving.
    const squatter: Server = createServer();
    const taken = await freePort();
    await new Promise<void>((r) => squatter.listen(taken, "127.0.0.1", r));
    try {
      const clash = snap(3, [http("web", port, "p1"), http("other", taken, "p1")], twoBackends(1).pools);
      await expect(engine.apply(clash)).rejects.toMatchObject({ code: "haproxy_failed" });
    } finally {
      await new Promise((r) => squatter.close(r));
    }
    expect(await readFile(engine.files.configPath, "utf8")).toBe(good);
    expect(engine.applied?.version).toBe(1);
    expect((await get(port, "/")).status).toBe(200);
  });

  it("NACKs a first snapshot HAProxy cannot start with, and leaves no HAProxy running", async () => {
    const squatter: Server = createServer();
    await new Promise<void>((r) => squatter.listen(port, "127.0.0.1", r));
    try {
      await expect(engine.apply(twoBackends(1))).rejects.toMatchObject({ code: "haproxy_failed" });
    } finally {
      await new Promise((r) => squatter.close(r));
    }
    expect(engine.masterPid).toBeUndefined();
    expect(engine.applied).toBeUndefined();
    // No crash-restart loop on a config that never started: the port stays free.
    await new Promise((r) => setTimeout(r, 1500));
    expect(engine.masterPid).toBeUndefined();
    await expect(get(port, "/")).rejects.toThrow(/ECONNREFUSED/);
    // The next good snapshot starts it.
    await engine.apply(twoBackends(2));
    expect((await get(port, "/")).status).toBe(200);
  });

  it("restarts HAProxy from the last good config when it dies", async () => {
    await engine.apply(twoBackends(1, { b: { state: "disabled" } }));
    const first = engine.masterPid!;
    process.kill(first, "SIGKILL");
    await until(() => engine.masterPid !== undefined && engine.masterPid !== first);
    await until(async () => (await get(port, "/").catch(() => undefined))?.status === 200);
    // Still the snapshot's state: b stays disabled after the restart.
    expect(new Set(await bodies(4))).toEqual(new Set(["a"]));
    expect(engine.applied?.version).toBe(1);
  });

  it("reports a killed backend as a down health event", async () => {
    const events: HealthEvent[] = [];
    engine.onHealthEvent((e) => events.push(e));
    await engine.apply(
      twoBackends(
        1,
        {},
        { healthCheck: { type: "http", path: "/health", intervalMs: 200, fall: 2, rise: 1 } },
      ),
    );
    await until(() => events.filter((e) => e.state === "up").length === 2);
    await backends[1]!.close();
    const down = await until(() => events.find((e) => e.state === "down"));
    expect(down).toMatchObject({ poolId: "p1", backendId: "b", port: backends[1]!.port });
    expect(new Set(await bodies(4))).toEqual(new Set(["a"]));
  });

  it("keeps a down backend down across a reload (server state carried to the new worker)", async () => {
    const events: HealthEvent[] = [];
    engine.onHealthEvent((e) => events.push(e));
    // Checks every 3 s: without the saved state, the new worker would call b up until its first check.
    const checks = { healthCheck: { type: "tcp", intervalMs: 3000, fall: 1, rise: 1 } } as const;
    await engine.apply(twoBackends(1, {}, checks));
    await backends[1]!.close();
    await until(() => events.find((e) => e.state === "down" && e.backendId === "b"));
    const c = await startCtlBackend("c");
    backends.push(c);
    const v2 = snap(
      2,
      [http("web", port, "p1")],
      [pool("p1", [be("a", backends[0]!.port), be("b", backends[1]!.port), be("c", c.port)], checks)],
    );
    const reloadsBefore = (await proc()).reloads;
    await engine.apply(v2);
    expect((await proc()).reloads).toBe(reloadsBefore + 1);
    const rows = await runtimeCommand(engine.files.statsSocket, "show stat");
    const b = rows.split("\n").find((l) => l.startsWith("p_p1,b_b,"));
    expect(b?.split(",")[17]).toMatch(/^DOWN/);
    expect(new Set(await bodies(6))).toEqual(new Set(["a", "c"]));
  });
});
