/**
 * A real console (APIs + agent gateway, no Next pages) in its own process, so its CPU
 * and memory can be read from /proc apart from the simulated agents. The bench drives
 * it over the fork IPC channel: topology set-up and changes go through tRPC procedures
 * (the same middleware as HTTP calls) as the admin or an operator.
 *
 * Environment: PORT, DATABASE_URL or FULCRUM_DATA_DIR, FULCRUM_SECRET, FULCRUM_ADMIN_*.
 */

import { actors, callerAs, consoleDir, startConsole } from "@fulcrum/console/testing";
import { nowMs, sleep } from "./clock.ts";
import type { ChangeResult, MemoryResult, Ready, Reply, Request, SetupResult } from "./ipc.ts";

if (!process.send) throw new Error("console-child.ts runs under fork() only");
// The bench went away: so do we.
process.on("disconnect", () => process.exit(0));

const running = await startConsole({ dev: false, dir: consoleDir, env: process.env, pages: false });
const admin = callerAs(running, actors.admin);
const operator = callerAs(running, actors.operator);
const { prisma } = running.services;

async function setup(): Promise<SetupResult> {
  const existing = await prisma.backend.findFirst({ where: { name: "alpha" }, include: { pool: true } });
  if (existing) return { clusterId: existing.pool.clusterId, backendId: existing.id };
  const clusterId = (await operator.cluster.create({ name: "fleet" })).id;
  const listener = await operator.listener.create({
    clusterId,
    name: "web",
    bindAddress: "127.0.0.1",
    port: 18080,
  });
  const poolId = (await operator.pool.create({ clusterId, name: "app" })).id;
  let backendId = "";
  for (const [i, name] of ["alpha", "bravo", "charlie"].entries()) {
    const b = await operator.backend.create({ poolId, name, address: "127.0.0.1", port: 19001 + i });
    if (i === 0) backendId = b.id;
  }
  await operator.route.create({ listenerId: listener.id, poolId });
  return { clusterId, backendId };
}

async function change(req: Extract<Request, { op: "toggle" }>): Promise<ChangeResult> {
  // Flip whatever the state is now, so every call commits a new version.
  const current = await prisma.backend.findUniqueOrThrow({
    where: { id: req.backendId },
    select: { state: true },
  });
  const state = current.state === "enabled" ? "disabled" : "enabled";
  const callStart = nowMs();
  await operator.backend.setState({ id: req.backendId, state });
  const callEnd = nowMs();
  const latest = await prisma.configVersion.findFirst({
    orderBy: { version: "desc" },
    select: { version: true },
  });
  const version = latest?.version ?? 0;
  // Every connected agent belongs to the one cluster; only connected ones can reach `version`.
  const deadline = Date.now() + 30_000;
  let polls = 0;
  while (Date.now() < deadline) {
    polls++;
    const n = await prisma.agent.count({ where: { appliedVersion: { gte: version } } });
    if (n >= req.expectAcks) return { callStart, callEnd, version, acksRecorded: nowMs(), polls };
    await sleep(2);
  }
  return { callStart, callEnd, version, acksRecorded: null, polls };
}

function memory(gc: boolean): MemoryResult {
  if (gc) (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
  };
}

async function handle(req: Request): Promise<unknown> {
  switch (req.op) {
    case "setup":
      return setup();
    case "enrollmentToken":
      return (await admin.agent.createEnrollmentToken({ clusterId: req.clusterId, maxUses: req.maxUses }))
        .secret;
    case "toggle":
      return change(req);
    case "memory":
      return memory(req.gc);
    case "connected":
      return running.services.gateway.connectedAgentIds().size;
  }
}

process.on("message", (req: Request) => {
  handle(req).then(
    (result) => process.send?.({ id: req.id, ok: true, result } satisfies Reply),
    (err: unknown) =>
      process.send?.({
        id: req.id,
        ok: false,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      } satisfies Reply),
  );
});

process.on("SIGTERM", () => {
  running.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});

process.send({ ready: true, port: running.port, at: nowMs() } satisfies Ready);
