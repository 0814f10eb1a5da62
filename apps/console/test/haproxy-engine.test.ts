import type { AgentProcess } from "@fulcrum/agent/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { get, type NamedBackend } from "./support/backends";
import { actors, callerAs, type TestConsole, waitFor } from "./support/console";
import { type Stack, startStack } from "./support/stack";

/** The console driving an agent whose data plane is HAProxy (`--engine haproxy`). */
describe("console → agent --engine haproxy → backends", () => {
  let stack: Stack;
  let c: TestConsole;
  let agent: AgentProcess;
  let backends: NamedBackend[];
  let listenerPort: number;
  let clusterId: string;
  let poolId: string;

  beforeAll(async () => {
    stack = await startStack({ cluster: "haproxy-edge", backends: ["alpha", "bravo"] });
    ({ console: c, clusterId, backends } = stack);
    ({ listenerPort, poolId } = await stack.webPool({
      poolSettings: {
        // What this engine supports: no outlier detection, no retry budget (engine-support.ts).
        outlierDetection: {
          enabled: false,
          consecutiveFailures: 5,
          baseEjectionMs: 30_000,
          maxEjectionMs: 300_000,
          maxEjectedPercent: 50,
        },
        retries: { enabled: true, attempts: 1, budgetPercent: 100 },
        healthCheck: {
          type: "tcp",
          intervalMs: 200,
          timeoutMs: 200,
          rise: 1,
          fall: 2,
          path: "/",
          method: "GET",
          expectStatus: [200, 399],
        },
      },
    }));

    ({ agent } = await stack.enroll("hx-1", {
      args: ["--engine", "haproxy"],
      env: process.env.FULCRUM_HAPROXY_BIN ? { FULCRUM_HAPROXY_BIN: process.env.FULCRUM_HAPROXY_BIN } : {},
    }));
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("serves the pushed snapshot through HAProxy", async () => {
    await waitFor(
      "HAProxy to serve the listener",
      async () => (await get(listenerPort)).status === 200,
      30_000,
    );
    const bodies: string[] = [];
    for (let i = 0; i < 6; i++) bodies.push((await get(listenerPort)).body);
    expect(new Set(bodies)).toEqual(new Set(["alpha", "bravo"]));
    // HAProxy can answer before the agent has logged that it started: wait for the line, don't race it.
    await agent.waitFor(/haproxy started/);
  });

  it("brings a killed backend's down event to the console", async () => {
    const bravo = (await c.services.prisma.backend.findFirst({ where: { poolId, name: "bravo" } }))!;
    const t0 = Date.now();
    await backends[1]!.close();
    const viewer = callerAs(c, actors.viewer);
    const down = await waitFor(
      "a down event for bravo",
      async () => {
        const events = await viewer.metrics.healthEvents({
          clusterId,
          poolId,
          from: t0 - 60_000,
          to: Date.now() + 1000,
        });
        return events.find((e) => e.backendId === bravo.id && e.state === "down");
      },
      30_000,
    );
    expect(down.agentName).toBe("hx-1");
    expect((await get(listenerPort)).body).toBe("alpha");
  });

  it("NACKs an option HAProxy cannot express, saying why, and keeps serving", async () => {
    const op = callerAs(c, actors.operator);
    await op.pool.update({ id: poolId, policy: "least_response_time" });
    const row = await waitFor(
      "the agent to nack",
      async () => {
        const a = await c.services.prisma.agent.findFirst({ where: { name: "hx-1" } });
        return a?.lastError ? a : undefined;
      },
      30_000,
    );
    expect(row.lastError).toMatch(/engine_unsupported.*least_response_time/);
    expect((await get(listenerPort)).body).toBe("alpha");
  });
});
