import { spawn } from "node:child_process";
import path from "node:path";
import type { AgentProcess } from "@fulcrum/agent/testing";
import { AGENT_ENROLL_PATH, AGENT_GATEWAY_PATH, CloseCode, enrollResponseSchema } from "@fulcrum/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { Actor } from "../src/server/domain/actor";
import { get, type NamedBackend } from "./support/backends";
import { actors, callerAs, consoleDir, type TestConsole, waitFor } from "./support/console";
import { type Stack, startStack } from "./support/stack";
import { httpCaller } from "./support/trpc-http";

interface FloodResult {
  sessions: number;
  sent: number;
  written: number;
  closes: Array<{ code: number; reason: string }>;
  refusals: Array<{ status: number; retryAfter: string | null }>;
}

/** The flooder runs in its own process: in this one it would compete with the console for the event loop. */
function flood(
  url: string,
  credential: string,
  seconds: number,
  framesPerSecond: number,
  mode: "small" | "big" = "small",
) {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(consoleDir, "test/fixtures/agent-flooder.ts"),
      url,
      credential,
      String(seconds),
      String(framesPerSecond),
      mode,
    ],
    {
      cwd: consoleDir,
      // Cast: Next augments ProcessEnv with a required NODE_ENV.
      env: { PATH: process.env.PATH ?? "" } as unknown as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    err += d;
  });
  return new Promise<FloodResult>((resolve, reject) =>
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`flooder exited ${code}: ${err}`));
      resolve(JSON.parse(out.trim().split("\n").at(-1)!) as FloodResult);
    }),
  );
}

/** How long one request takes to be answered in full; a stalled console shows up as seconds. */
async function timed(what: string, request: () => Promise<Response>): Promise<{ what: string; ms: number }> {
  const started = performance.now();
  const res = await request();
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${what} answered ${res.status}`);
  return { what, ms: performance.now() - started };
}

describe("one agent credential flooding the gateway", () => {
  let stack: Stack;
  let c: TestConsole;
  let steady: AgentProcess;
  let backends: NamedBackend[];
  let clusterId: string;
  let poolId: string;
  let listenerPort: number;

  beforeAll(async () => {
    stack = await startStack({ cluster: "flooded", backends: ["alpha", "bravo"] });
    ({ console: c, clusterId, backends } = stack);
    ({ listenerPort, poolId } = await stack.webPool({ backends: [backends[0]!] }));
    steady = (await stack.enroll("steady")).agent;
    await waitFor(
      "the steady agent to serve",
      async () => (await get(listenerPort)).body === "alpha",
      30_000,
    );
  });
  afterAll(async () => {
    await stack?.close();
  });

  /** A real credential for a flooding "agent", and a viewer API token to probe the console with. */
  async function flooderAndViewer(name: string) {
    const token = await callerAs(c, actors.admin).agent.createEnrollmentToken({ clusterId });
    const res = await fetch(`${c.url}${AGENT_ENROLL_PATH}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: token.secret, name }),
    });
    const flooder = enrollResponseSchema.parse(await res.json());
    const user = await c.services.prisma.user.create({
      data: { id: `${name}-admin`, name: `${name}-admin`, email: `${name}-admin@example.com`, role: "admin" },
    });
    const admin: Actor = { kind: "user", id: user.id, name: user.name, role: "admin" };
    const apiToken = await callerAs(c, admin).token.create({ name: `${name}-probe`, role: "viewer" });
    const viewer = { authorization: `Bearer ${apiToken.secret}` };
    expect((await httpCaller(c.url, viewer).query("pool.list", { clusterId })).status).toBe(200);
    return { flooder, viewer };
  }

  /** Times /api/health and a tRPC query back to back, 150 ms apart, until `stop(probes so far)` says so. */
  async function probeUntil(viewer: Record<string, string>, stop: (probed: number) => boolean) {
    const probes: Array<{ what: string; ms: number }> = [];
    const query = encodeURIComponent(JSON.stringify({ json: { clusterId } }));
    while (!stop(probes.length)) {
      probes.push(
        await timed("/api/health", () =>
          fetch(`${c.url}/api/health`, { signal: AbortSignal.timeout(20_000) }),
        ),
        await timed("pool.list", () =>
          fetch(`${c.url}/api/trpc/pool.list?input=${query}`, {
            headers: viewer,
            signal: AbortSignal.timeout(20_000),
          }),
        ),
      );
      await new Promise((r) => setTimeout(r, 150));
    }
    return probes;
  }

  /**
   * Issue 13's acceptance is "pages answer within 1 s while flooded"; a starved console took 18 s.
   * Two things make a plain 1 s bound fail on a loaded machine (load 15–30 on 2 cores) without any
   * starvation, and the bound allows for each, while seconds of starvation still fail:
   * - Machine load slows every request, flooded or not: the allowance is 3× the slowest of six
   *   unflooded pairs measured just before on the same console, when that is more than 1 s.
   * - The first pair is sent the moment the flooder is connected, while the console parses the
   *   burst its limits admit by design (60 frames, 8 MiB) and, in the first test, writes the
   *   operator's change: here it took 175–464 ms where later probes took 3–60 ms, under load once
   *   1263 ms. It may take 3× the allowance (3 s at least), still far below the 18 s of a starved
   *   console and below the 5–6 s flood itself.
   * (A console stalled through the whole flood also shows in the number of probes, checked apart.)
   */
  async function allowedProbeMs(viewer: Record<string, string>) {
    const calm = await probeUntil(viewer, (probed) => probed >= 12);
    return { ms: Math.max(1000, 3 * Math.max(...calm.map((p) => p.ms))), calm };
  }

  /** Expects every flooded probe within the allowance (the first pair within 3×); the message shows both series. */
  function expectNoneSlow(
    probes: Array<{ ms: number }>,
    allowed: Awaited<ReturnType<typeof allowedProbeMs>>,
  ) {
    const ms = (xs: Array<{ ms: number }>) => JSON.stringify(xs.map((p) => Math.round(p.ms)));
    expect
      .soft(
        probes.filter((p, i) => p.ms > (i < 2 ? 3 : 1) * allowed.ms),
        `allowed ${Math.round(allowed.ms)} ms (first pair 3×); flooded ${ms(probes)}; unflooded ${ms(allowed.calm)}`,
      )
      .toEqual([]);
  }

  /** Starts the flooder and, until it ends, times /api/health and a tRPC query back to back. */
  async function floodWhileProbing(
    flooder: { agentId: string; credential: string },
    viewer: Record<string, string>,
    opts: { seconds: number; framesPerSecond: number; mode: "small" | "big" },
  ) {
    let flooderDone = false;
    const result = flood(c.url, flooder.credential, opts.seconds, opts.framesPerSecond, opts.mode).finally(
      () => {
        flooderDone = true;
      },
    );
    await waitFor("the flooder to connect", async () => {
      const row = await c.services.prisma.agent.findUnique({ where: { id: flooder.agentId } });
      return row?.connectedAt ?? false;
    });
    const probing = probeUntil(viewer, () => flooderDone);
    return { result, probing, done: () => flooderDone };
  }

  it("drops and then closes the flooder (4429), refuses its reconnects for a while, keeps pages and other agents served, and writes a bounded number of rows", async () => {
    const { flooder, viewer } = await flooderAndViewer("flooder");
    const allowed = await allowedProbeMs(viewer);
    // (b) While it floods, the console keeps answering plain and tRPC requests.
    const { result, probing, done } = await floodWhileProbing(flooder, viewer, {
      seconds: 6,
      framesPerSecond: 10_000,
      mode: "small",
    });

    // (a) Meanwhile a change reaches the well-behaved agent, which applies it.
    await callerAs(c, actors.operator).backend.create({
      poolId,
      name: "bravo",
      address: "127.0.0.1",
      port: backends[1]!.port,
    });
    await waitFor("the steady agent to apply the change during the flood", async () => {
      const bodies = await Promise.all([1, 2, 3, 4].map(() => get(listenerPort)));
      return bodies.some((b) => b.body === "bravo");
    });
    const applied = await waitFor("the flood to end", () => (done() ? true : undefined), 30_000);
    expect(applied).toBe(true);
    const probes = await probing;
    const r = await result;

    // (d) Closed with the rate-limit code, and its immediate reconnects refused with 429 and a Retry-After.
    expect.soft(r.sent).toBeGreaterThan(500);
    expect.soft(r.closes[0]).toMatchObject({ code: CloseCode.rateLimited });
    expect.soft(r.closes[0]?.reason).toMatch(/rate limited/);
    expect.soft(r.refusals.length).toBeGreaterThan(0);
    expect.soft(r.refusals.every((x) => x.status === 429 && Number(x.retryAfter) > 0)).toBe(true);

    expect.soft(probes.length).toBeGreaterThan(4);
    expectNoneSlow(probes, allowed);

    // (a) The other agent stayed connected all along.
    const listed = await callerAs(c, actors.viewer).agent.list({ clusterId });
    expect.soft(listed.find((a) => a.name === "steady")).toMatchObject({ connected: true });
    expect.soft(steady.stderr()).not.toMatch(/console stopped answering|console connection lost/);

    // (c) The flood left a handful of rows, not one per frame.
    await new Promise((res) => setTimeout(res, 500));
    const [configRows, healthRows] = await Promise.all([
      c.services.prisma.agentConfigEvent.count({ where: { agentId: flooder.agentId } }),
      c.services.prisma.healthEvent.count({ where: { agentId: flooder.agentId } }),
    ]);
    expect.soft(configRows + healthRows).toBeGreaterThan(0);
    expect.soft(configRows + healthRows).toBeLessThan(20);
  });

  it("reads an agent sending large frames no faster than its byte rate, so parsing them cannot starve the console", async () => {
    const { flooder, viewer } = await flooderAndViewer("heavy");
    const allowed = await allowedProbeMs(viewer);
    const { result, probing } = await floodWhileProbing(flooder, viewer, {
      seconds: 5,
      framesPerSecond: 0,
      mode: "big",
    });
    const r = await result;
    const probes = await probing;
    expect(r.sent).toBeGreaterThan(5);
    // At 2 MiB/s after an 8 MiB burst, 5 s let in at most 18 MiB, plus what socket buffers hold;
    // unthrottled, the console reads as fast as it can parse (70 MB in 5 s on a loaded
    // 2-core machine, far more on an idle one).
    expect.soft(r.written, `${r.sent} frames, ${r.written} bytes`).toBeLessThan(32 * 1024 * 1024);
    expect.soft(probes.length).toBeGreaterThan(4);
    expectNoneSlow(probes, allowed);
    // Each frame repeats one backend's state with an address too long to store: nothing is written.
    expect(await c.services.prisma.healthEvent.count({ where: { agentId: flooder.agentId } })).toBe(0);
  });

  it("refuses, before any database lookup, a credential that reconnects too often and an address that keeps failing to authenticate", async () => {
    const { flooder } = await flooderAndViewer("hopper");
    const attempt = (credential: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${c.url.replace(/^http/, "ws")}${AGENT_GATEWAY_PATH}`, {
          headers: { authorization: `Bearer ${credential}` },
        });
        ws.on("open", () => {
          ws.close();
          resolve(101);
        });
        ws.on("unexpected-response", (_req, res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        ws.on("error", () => resolve(0));
      });
    const connects: number[] = [];
    for (let i = 0; i < 14; i++) connects.push(await attempt(flooder.credential));
    expect(connects.slice(0, 10)).toEqual(Array(10).fill(101));
    // One more may get through if the loop took over 5 s (one connect per 5 s refills).
    expect(connects.slice(10).filter((s) => s === 429).length).toBeGreaterThanOrEqual(3);

    // 100 failures, then 10 a second: at the pace of one attempt after another, most of the rest are refused.
    const junk: number[] = [];
    for (let i = 0; i < 200; i++) junk.push(await attempt(`fa_not-a-credential-${i}`));
    expect(junk.slice(0, 100)).toEqual(Array(100).fill(401));
    expect(junk.every((s) => s === 401 || s === 429)).toBe(true);
    expect(junk.slice(150).filter((s) => s === 429).length).toBeGreaterThan(25);
  });
});
