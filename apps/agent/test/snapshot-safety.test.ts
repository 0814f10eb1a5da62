import { spawn } from "node:child_process";
import { chmod, chown, mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Snapshot } from "@fulcrum/protocol";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { HealthCheckers } from "../src/dataplane/health/health-checker";
import { NodeEngine } from "../src/engines/builtin/node-engine";
import { createLogger, type Logger } from "../src/log";
import { snapshotApplier } from "../src/snapshot-applier";
import { SnapshotRetry } from "../src/snapshot-retry";
import { ensureStateDir } from "../src/state/state-dir";
import { type AgentProcess, spawnAgent } from "./helpers/agent-process";
import { type CtlBackend, sleep, startCtlBackend, until } from "./helpers/backends";
import { freePort, get } from "./helpers/net";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";
import { credentialJson, type StandInConsole, startStandInConsole } from "./helpers/stand-in-console";

/** A logger that keeps its lines, to assert what was reported. */
function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (msg: string, fields?: object) =>
    lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`);
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** A copy of a valid snapshot with one pool setting changed, as a buggy console or a hand-edited file would send it. */
function bypassing(good: Snapshot, version: number, pool: Partial<Snapshot["pools"][number]>): Snapshot {
  const s = structuredClone(good);
  s.version = version;
  Object.assign(s.pools[0]!, pool);
  return s;
}

const SPACE_PATH = { type: "http", intervalMs: 100, timeoutMs: 80, rise: 1, fall: 1, path: "/a b" } as const;
const CRLF_COOKIE = { type: "cookie", cookieName: "S\r\nX-Injected: 1", ttlSeconds: 60 } as const;

let a: CtlBackend;
let dir: string;
beforeAll(async () => {
  a = await startCtlBackend("a");
  dir = await mkdtemp(join(tmpdir(), "fulcrum-safety-"));
});
afterAll(async () => {
  await a.close();
  await rm(dir, { recursive: true, force: true });
});

describe.each(["h1", "node"] as const)(
  "engine (%s front end): a snapshot that bypassed the schema",
  (frontEnd) => {
    let engine: NodeEngine;
    let port: number;
    let good: Snapshot;
    beforeEach(async () => {
      engine = new NodeEngine({
        log: memoryLogger(),
        timeouts: { drainGraceMs: 100 },
        httpFrontEnd: frontEnd,
      });
      port = await freePort();
      good = makeSnapshot(1, [httpListener(port)], [backend("a", a.port)], "round_robin", [], {
        persistence: { type: "cookie" },
      });
      await engine.apply(good);
    });
    afterEach(() => engine.stop());

    it("with a health-check path holding a space is refused as a whole; the previous config keeps serving", async () => {
      const bad = bypassing(good, 2, { healthCheck: { ...good.pools[0]!.healthCheck, ...SPACE_PATH } });
      await expect(engine.apply(bad)).rejects.toMatchObject({
        code: "snapshot_invalid",
        message: expect.stringMatching(/health-check path "\/a b"/),
      });
      expect(engine.applied?.version).toBe(1);
      await sleep(300);
      expect((await get(port)).body).toBe("a");
    });

    it("with a cookie name holding CR LF is refused; no response ever carries an injected header", async () => {
      const bad = bypassing(good, 2, { persistence: CRLF_COOKIE });
      await expect(engine.apply(bad)).rejects.toMatchObject({ code: "snapshot_invalid" });
      expect(engine.applied?.version).toBe(1);
      const r = await get(port);
      expect(r.status).toBe(200);
      expect(r.headers["x-injected"]).toBeUndefined();
      expect(String(r.headers["set-cookie"])).toMatch(/^FULCRUM_STICKY=[\w-]+; Path=\/; HttpOnly$/);
    });
  },
);

describe("engine: moving a listener to another address on the same port (found by the property test)", () => {
  it("releases the old bind first instead of nacking EADDRINUSE forever; a failed move restores it", async () => {
    const engine = new NodeEngine({ log: memoryLogger(), timeouts: { drainGraceMs: 100 } });
    const port = await freePort();
    try {
      await engine.apply(
        makeSnapshot(1, [httpListener(port, { bindAddress: "0.0.0.0" })], [backend("a", a.port)]),
      );
      expect((await get(port)).body).toBe("a");
      await engine.apply(
        makeSnapshot(2, [httpListener(port, { bindAddress: "127.0.0.1" })], [backend("a", a.port)]),
      );
      expect(engine.applied?.version).toBe(2);
      expect((await get(port)).body).toBe("a");
      // A move that cannot complete (a second listener on a taken port) puts the old bind back.
      const taken = a.port;
      await expect(
        engine.apply(
          makeSnapshot(
            3,
            [httpListener(port, { bindAddress: "0.0.0.0" }), httpListener(taken)],
            [backend("a", a.port)],
          ),
        ),
      ).rejects.toMatchObject({ code: "listener_bind_failed" });
      expect(engine.applied?.version).toBe(2);
      expect((await get(port)).body).toBe("a");
    } finally {
      await engine.stop();
    }
  });
});

describe("engine: repeated listener ids", () => {
  it("are refused: tables are keyed by id, so one listener would serve another's routes", async () => {
    const engine = new NodeEngine({ log: memoryLogger() });
    const [p1, p2] = [await freePort(), await freePort()];
    try {
      await expect(
        engine.apply(
          makeSnapshot(
            1,
            [httpListener(p1, { id: "same" }), httpListener(p2, { id: "same" })],
            [backend("a", a.port)],
          ),
        ),
      ).rejects.toMatchObject({ code: "snapshot_invalid", message: "listener id same appears twice" });
    } finally {
      await engine.stop();
    }
  });
});

describe("transient nack retries", () => {
  it("end when a newer snapshot arrives: freeing the port later does not bring the older one back", async () => {
    const log = memoryLogger();
    const engine = new NodeEngine({ log });
    const holder = createServer();
    const [port, held] = [await freePort(), await freePort()];
    await new Promise<void>((r) => holder.listen(held, "127.0.0.1", r));
    const reported: string[] = [];
    const retry = new SnapshotRetry({
      apply: snapshotApplier(engine, undefined, log),
      report: (v, r) => reported.push(`${v}:${r.ok ? "ack" : "nack"}`),
      log,
      backoff: { baseMs: 20, capMs: 50 },
    });
    try {
      const v1 = makeSnapshot(1, [httpListener(port), httpListener(held)], [backend("a", a.port)]);
      expect(await retry.apply(v1)).toMatchObject({ ok: false, reason: expect.stringMatching(/EADDRINUSE/) });
      expect(await until(() => reported.length >= 2, 3000)).toBe(true);
      expect(new Set(reported)).toEqual(new Set(["1:nack"]));
      expect(retry.retrying).toBe(true);

      expect(await retry.apply(makeSnapshot(2, [httpListener(port)], [backend("a", a.port)]))).toMatchObject({
        ok: true,
      });
      expect(retry.retrying).toBe(false);
      await new Promise((r) => holder.close(r));
      const before = reported.length;
      await sleep(300);
      expect(engine.applied?.version).toBe(2);
      expect(reported.length).toBe(before);
    } finally {
      retry.stop();
      holder.close();
      await engine.stop();
    }
  });
});

describe("health checker", () => {
  it("fails a check whose path is not an origin-form target instead of throwing in its timer", async () => {
    const changes: string[] = [];
    const checkers = new HealthCheckers(
      (_c, to, _from, reason) => changes.push(`${to}: ${reason}`),
      Math.random,
      memoryLogger(),
    );
    const c = checkers.prepare("127.0.0.1", a.port, {
      ...makeSnapshot(1, [], []).pools[0]!.healthCheck,
      ...SPACE_PATH,
    })!;
    checkers.commit(new Set([c]));
    try {
      expect(await until(() => changes.length > 0, 3000)).toBe(true);
      expect(changes[0]).toMatch(/^down: invalid health-check path/);
    } finally {
      checkers.stopAll();
    }
  });

  it("logs a bug in a health-change callback and goes on checking", async () => {
    const log = memoryLogger();
    let calls = 0;
    const checkers = new HealthCheckers(
      () => {
        calls++;
        throw new Error("bug in a callback");
      },
      Math.random,
      log,
    );
    const hc = {
      ...makeSnapshot(1, [], []).pools[0]!.healthCheck,
      type: "http",
      intervalMs: 100,
      timeoutMs: 80,
      rise: 1,
      fall: 1,
      path: "/health",
    } as const;
    const c = checkers.prepare("127.0.0.1", a.port, hc)!;
    checkers.commit(new Set([c]));
    try {
      a.healthStatus = 503;
      expect(await until(() => calls >= 1, 3000)).toBe(true);
      const seen = a.healthChecks;
      // Still checking after the callback threw: it comes back up, and the callback runs (and throws) again.
      a.healthStatus = 200;
      expect(await until(() => calls >= 2 && a.healthChecks >= seen + 2, 3000)).toBe(true);
      expect(log.lines.some((l) => /^error internal error contained.*bug in a callback/.test(l))).toBe(true);
    } finally {
      a.healthStatus = 200;
      checkers.stopAll();
    }
  });
});

describe("state dir", () => {
  it("makes an existing world-writable state dir private (0700) and says so", async () => {
    const d = join(dir, "open");
    await mkdir(d);
    await chmod(d, 0o777);
    const log = memoryLogger();
    await ensureStateDir(d, log);
    expect((await stat(d)).mode & 0o777).toBe(0o700);
    expect(log.lines.join("\n")).toMatch(/warn state dir was accessible to other users.*"was":"0777"/);
  });

  it.skipIf(process.geteuid?.() !== 0)(
    "refuses a state dir owned by another user, saying what to fix",
    async () => {
      const d = join(dir, "theirs");
      await mkdir(d, { mode: 0o777 });
      await chown(d, 65534, 65534);
      await expect(ensureStateDir(d)).rejects.toMatchObject({
        code: "state_store_failed",
        message: expect.stringMatching(/owned by uid 65534.*chown it/),
      });
    },
  );

  it("makes a credential or snapshot file others can read private (0600)", async () => {
    const d = join(dir, "loose-files");
    await mkdir(d, { mode: 0o700 });
    await writeFile(join(d, "credential.json"), "{}", { mode: 0o644 });
    await chmod(join(d, "credential.json"), 0o644);
    const log = memoryLogger();
    await ensureStateDir(d, log);
    expect((await stat(join(d, "credential.json"))).mode & 0o777).toBe(0o600);
    expect(log.lines.join("\n")).toMatch(/state file was accessible to other users/);
  });

  it("refuses a file in place of the state dir", async () => {
    const f = join(dir, "file");
    await writeFile(f, "");
    await expect(ensureStateDir(f)).rejects.toMatchObject({ code: "state_store_failed" });
  });
});

describe("log lines", () => {
  it("escape control characters in messages and values, so a value cannot forge a line", () => {
    const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      createLogger("debug").warn("bad\nname", {
        name: "web\r\n2026-01-01T00:00:00Z ERROR forged",
        esc: "a\u001b[31m",
      });
      const out = String(write.mock.calls[0]![0]);
      expect(out.split("\n")).toEqual([expect.stringMatching(/ WARN bad\\u000aname /), ""]);
      expect(out).toContain('name="web\\r\\n2026-01-01T00:00:00Z ERROR forged"');
      expect(out).toContain('esc="a\\u001b[31m"');
    } finally {
      write.mockRestore();
    }
  });
});

describe("fulcrum-agent process", () => {
  const running: AgentProcess[] = [];
  let console_: StandInConsole | undefined;
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
    console_?.close();
    console_ = undefined;
  });

  /** The raw JSON a hand-written file or an older agent's state dir would hold. */
  const rawSnapshot = (version: number, port: number, pool: object) => {
    const s = makeSnapshot(version, [httpListener(port)], [backend("a", a.port)]);
    Object.assign(s.pools[0]!, pool);
    return JSON.stringify(s);
  };

  it.each([
    ["pools.0.healthCheck.path", { healthCheck: SPACE_PATH }],
    ["pools.0.persistence.cookieName", { persistence: CRLF_COOKIE }],
  ])("refuses a --config snapshot (exit 2, naming %s) instead of serving it", async (field, pool) => {
    const file = join(dir, `bad-${field}.json`);
    await writeFile(file, rawSnapshot(1, await freePort(), pool));
    const agent = spawnAgent(["--config", file]);
    running.push(agent);
    expect(await agent.exited).toBe(2);
    expect(agent.stderr()).toContain(`not a valid snapshot at ${field}`);
  });

  it("restarted with the console down and a stored snapshot with a space in a health path: reports it and stays up", async () => {
    const stateDir = join(dir, "stored");
    await mkdir(stateDir, { mode: 0o700 });
    await writeFile(join(stateDir, "credential.json"), credentialJson("http://127.0.0.1:1"), { mode: 0o600 });
    await writeFile(
      join(stateDir, "snapshot.json"),
      rawSnapshot(5, await freePort(), { healthCheck: SPACE_PATH }),
    );
    const agent = spawnAgent(["--console", "http://127.0.0.1:1", "--state-dir", stateDir]);
    running.push(agent);
    await agent.waitFor(/stored snapshot is invalid; ignoring it.*healthCheck/);
    // Several check intervals of the stored snapshot: an agent that applied it would have died by now.
    await agent.waitFor(/reconnecting/);
    await sleep(500);
    expect(agent.child.exitCode).toBeNull();
    expect(await agent.stop()).toBe(0);
  });

  it("over the console: refuses such a snapshot, keeps serving the previous one and stays up", async () => {
    console_ = await startStandInConsole();
    const stateDir = join(dir, "live");
    await mkdir(stateDir, { mode: 0o700 });
    await writeFile(join(stateDir, "credential.json"), credentialJson(console_.url), { mode: 0o600 });
    const agent = spawnAgent(["--console", console_.url, "--state-dir", stateDir]);
    running.push(agent);
    const ws = await console_.welcomed();
    const port = await freePort();
    const good = makeSnapshot(1, [httpListener(port)], [backend("a", a.port)]);
    console_.push(ws, good);
    expect((await console_.answer(1)).type).toBe("ack");

    console_.push(ws, JSON.parse(rawSnapshot(2, port, { healthCheck: SPACE_PATH })));
    expect((await console_.next("error")).payload).toMatchObject({
      code: "invalid_message",
      message: expect.stringMatching(/healthCheck\.path/),
    });
    // And a nack, so the console can show why this agent stays on v1.
    expect(await console_.answer(2)).toMatchObject({
      type: "nack",
      payload: { reason: expect.stringMatching(/^snapshot_invalid: .*healthCheck\.path/) },
    });
    console_.push(ws, JSON.parse(rawSnapshot(3, port, { persistence: CRLF_COOKIE })));
    expect((await console_.next("error")).payload).toMatchObject({
      message: expect.stringMatching(/persistence\.cookieName/),
    });
    await sleep(500);
    expect(agent.child.exitCode).toBeNull();
    const r = await get(port);
    expect(r.body).toBe("a");
    expect(r.headers["x-injected"]).toBeUndefined();
  });

  it("retries a snapshot refused because another process holds its port, and acks it once the port is free", async () => {
    console_ = await startStandInConsole();
    const stateDir = join(dir, "retry");
    await mkdir(stateDir, { mode: 0o700 });
    await writeFile(join(stateDir, "credential.json"), credentialJson(console_.url), { mode: 0o600 });
    const agent = spawnAgent(["--console", console_.url, "--state-dir", stateDir], {
      FULCRUM_APPLY_RETRY_BASE_MS: "100",
      FULCRUM_APPLY_RETRY_CAP_MS: "400",
    });
    running.push(agent);
    const ws = await console_.welcomed();
    const [port, held] = [await freePort(), await freePort()];
    const holder = spawn(
      process.execPath,
      ["-e", `require("node:net").createServer().listen(${held}, "127.0.0.1", () => console.log("holding"))`],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      await new Promise((r) => holder.stdout!.once("data", r));
      const snap = makeSnapshot(1, [httpListener(port), httpListener(held)], [backend("a", a.port)]);
      console_.push(ws, snap);
      const first = await console_.answer(1);
      expect(first).toMatchObject({
        type: "nack",
        payload: { reason: expect.stringMatching(/^listener_bind_failed: .*EADDRINUSE/) },
      });
      // Retried while the port stays taken (the connection sends the same nack only once per session).
      await agent.waitFor(/will retry version=1 attempt=2/);
      holder.kill();
      let acked = false;
      for (let i = 0; i < 50 && !acked; i++) acked = (await console_.answer(1, 10_000)).type === "ack";
      expect(acked).toBe(true);
      expect((await get(held)).body).toBe("a");
      expect((await get(port)).body).toBe("a");
      expect(agent.stderr()).toMatch(/snapshot applied on retry version=1/);
    } catch (e) {
      console.log(agent.stderr());
      throw e;
    } finally {
      holder.kill();
    }
  });
});
