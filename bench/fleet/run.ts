/**
 * The fleet benchmark: push latency, idle cost and a reconnect storm of simulated agents
 * against a real console in a child process. See bench/README.md and docs/benchmarks.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createFreshPostgresDatabase } from "../../packages/db/src/testing.ts";
import { installExitHandlers, onExit } from "./children.ts";
import { ConsoleProcess } from "./console-process.ts";
import { enrollAgents, Fleet } from "./fleet.ts";
import { type IdleResult, measureIdle, sampleMemory } from "./idle.ts";
import { type IngestResult, measureGraphLatency, measureIngest, setupIngestTopology } from "./ingest.ts";
import type { SetupResult } from "./ipc.ts";
import { describeMachine } from "./machine.ts";
import { parseOptions } from "./options.ts";
import { BACKOFF_DESCRIPTION, FIXED_DELAY_MS, fixedDelay, realBackoff } from "./policies.ts";
import { disconnectFleet, measurePush, type PushResult } from "./push.ts";
import { type FleetReport, ingestGoals, pushGoals, renderReport } from "./report.ts";
import { measureStorm, type StormResult } from "./storm.ts";

installExitHandlers();
const opts = parseOptions(process.argv.slice(2));
const here = path.dirname(fileURLToPath(import.meta.url));
const startedAt = new Date();
const work = mkdtempSync(path.join(os.tmpdir(), "fulcrum-fleet-"));
let keepWork = true;
onExit(() => {
  if (!keepWork) rmSync(work, { recursive: true, force: true });
});
const ADMIN_EMAIL = "admin@fleet.test";
const ADMIN_PASSWORD = "fleet-bench-password";
const log = (m: string) => process.stderr.write(`fleet: ${m}\n`);

/** A console child on a fresh database; `persistent` keeps PGlite's data on disk (restarts). */
async function newConsole(name: string, persistent: boolean) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    FULCRUM_SECRET: "fleet-bench-secret-fleet-bench-secret-0123456789",
    FULCRUM_ADMIN_EMAIL: ADMIN_EMAIL,
    FULCRUM_ADMIN_PASSWORD: ADMIN_PASSWORD,
  };
  delete env.DATABASE_URL;
  delete env.FULCRUM_DATA_DIR;
  let drop = async () => {};
  if (opts.postgres) {
    const fresh = await createFreshPostgresDatabase(opts.databaseUrl);
    env.DATABASE_URL = fresh.url;
    drop = fresh.drop;
  } else {
    env.FULCRUM_DATA_DIR = persistent ? path.join(work, `${name}-data`) : "memory://";
  }
  const c = new ConsoleProcess(env, path.join(work, `${name}.log`));
  await c.start();
  const setup = (await c.request("setup", {})) as SetupResult;
  return {
    c,
    setup,
    async close() {
      await c.stop();
      await drop();
    },
  };
}

async function enroll(c: ConsoleProcess, clusterId: string, count: number) {
  const token = (await c.request("enrollmentToken", { clusterId, maxUses: count })) as string;
  const t0 = Date.now();
  const creds = await enrollAgents(c.url, token, count);
  log(`enrolled ${count} agents in ${Date.now() - t0} ms`);
  return creds;
}

const push: PushResult[] = [];
let idle: IdleResult | null = null;
const storm: StormResult[] = [];
const largest = opts.sizes[opts.sizes.length - 1] as number;
log(`work dir ${work} (console logs)`);

if (opts.only.has("push") || opts.only.has("idle")) {
  const a = await newConsole("console-a", false);
  const creds = await enroll(a.c, a.setup.clusterId, largest);
  // Let the enrollment work settle before the baseline sample.
  await new Promise((r) => setTimeout(r, 1000));
  const before = await sampleMemory(a.c);
  const sizes = opts.only.has("push") ? opts.sizes : [largest];
  for (const n of sizes) {
    log(`push: ${n} agents, ${opts.only.has("push") ? opts.changes : 0} changes`);
    const { result, fleet } = await measurePush(
      a.c,
      creds.slice(0, n),
      a.setup.backendId,
      opts.only.has("push") ? opts.changes : 0,
    );
    if (opts.only.has("push")) push.push(result);
    if (n === largest && opts.only.has("idle")) {
      log(`idle: ${n} agents for ${opts.idleSeconds} s`);
      idle = await measureIdle(a.c, n, opts.idleSeconds, before);
    }
    await disconnectFleet(a.c, fleet);
  }
  await a.close();
}

if (opts.only.has("storm")) {
  const b = await newConsole("console-b", true);
  const creds = await enroll(b.c, b.setup.clusterId, largest);
  const fleet = new Fleet(creds, b.c.url, realBackoff);
  onExit(() => fleet.stop());
  await fleet.connectAll(1);
  const variants = [
    {
      name: `real back-off (${BACKOFF_DESCRIPTION})`,
      short: "real back-off (full jitter)",
      policy: realBackoff,
    },
    {
      name: `fixed ${FIXED_DELAY_MS} ms, no jitter`,
      short: `fixed ${FIXED_DELAY_MS} ms, no jitter`,
      policy: fixedDelay(FIXED_DELAY_MS),
    },
  ];
  for (const v of variants) {
    const version = Math.max(...fleet.agents.map((x) => x.applied?.version ?? 0));
    await fleet.waitSettled(version, 60_000);
    await new Promise((r) => setTimeout(r, 1500));
    log(`storm: ${v.name}, ${creds.length} agents`);
    storm.push(await measureStorm(b.c, fleet, v.short, v.policy));
  }
  fleet.stop();
  await b.close();
}

let ingest: IngestResult | null = null;
if (opts.only.has("ingest")) {
  const d = await newConsole("console-c", false);
  const creds = await enroll(d.c, d.setup.clusterId, largest);
  const topo = await setupIngestTopology(d.c.url, d.setup.clusterId, ADMIN_EMAIL, ADMIN_PASSWORD);
  // 1,000 agents × 20 backends is the goal; 250 and 500 show how the cost scales.
  const sizes = [...new Set([250, 500, largest].filter((n) => n <= largest))];
  const { runs, fleet } = await measureIngest(d.c, creds, topo, sizes, opts.ingestSeconds, log);
  await disconnectFleet(d.c, fleet);
  log(`ingest: request → live graph, ${opts.graphSamples} samples`);
  const latency = await measureGraphLatency(d.c, creds[0] as (typeof creds)[number], topo, opts.graphSamples);
  ingest = { runs, latency };
  await d.close();
}

const report: FleetReport = {
  startedAt: startedAt.toISOString(),
  command: `pnpm --filter @fulcrum/bench fleet${process.argv.length > 2 ? ` ${process.argv.slice(2).join(" ")}` : ""}`,
  database: opts.postgres
    ? "PostgreSQL 15 (fresh database per console)"
    : "PGlite (memory:// for push/idle, a data directory for the storm)",
  machine: describeMachine(),
  push,
  idle,
  storm,
  ingest,
  goals: [...pushGoals(push), ...ingestGoals(ingest)],
};
console.log(renderReport(report));
const resultsDir = path.join(here, "..", "results");
mkdirSync(resultsDir, { recursive: true });
const file = path.join(resultsDir, `fleet-${startedAt.toISOString().slice(0, 19).replaceAll(":", "-")}.json`);
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
keepWork = false;
process.exit(0);
