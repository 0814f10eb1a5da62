/**
 * Runs inside the VM: bench/proxy's idle-connection measurement (idle-measure.ts)
 * against a fresh agent with one http listener, and prints one result line on the
 * serial console for the host.
 */
import { readdirSync, readFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { httpGet } from "../../proxy/http-check";
import { measureIdleConnections } from "../../proxy/idle-measure";
import {
  fdLimits,
  installExitHandlers,
  killAll,
  logTail,
  rssKiB,
  type Started,
  start,
  stop,
  waitForPort,
} from "../../proxy/processes";
import type { IdleReport } from "../../proxy/report";
import { ERROR_MARKER, type GuestInfo, type GuestPlan, type GuestResult, RESULT_MARKER } from "./plan";

const uptime = () => Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
const log = (s: string) => process.stdout.write(`[guest ${uptime().toFixed(0).padStart(5)} s] ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;
const round1 = (n: number) => Math.round(n * 10) / 10;

/** The guest's MemAvailable: how close the clients, the agent and the sockets came to its RAM. */
function memAvailableMiB(): number {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : Number.NaN;
}

/** Every few seconds, how many descriptors the agent holds: the only progress a long TCG open shows. */
function watch(agent: Started): () => void {
  const timer = setInterval(() => {
    try {
      log(
        `agent holds ${readdirSync(`/proc/${agent.pid}/fd`).length} descriptors, RSS ${mib(rssKiB(agent.pid))}`,
      );
    } catch {}
  }, 30_000);
  return () => clearInterval(timer);
}

async function measure(
  plan: GuestPlan,
  agent: Started,
  notes: string[],
): Promise<{ idle: IdleReport; memAvailableMiBHeld: number }> {
  let memAvailableMiBHeld = Number.NaN;
  const unwatch = watch(agent);
  try {
    const idle = await measureIdleConnections({
      port: plan.agentPort,
      agentPid: agent.pid,
      hold: plan.connections,
      target: plan.connections,
      perProcess: plan.perProcess,
      batch: plan.batch,
      openDeadlineMs: plan.openDeadlineMs,
      answerTimeoutMs: 30_000,
      notes,
      log,
      onHeld: () => {
        unwatch();
        memAvailableMiBHeld = memAvailableMiB();
      },
    });
    return { idle, memAvailableMiBHeld };
  } finally {
    unwatch();
  }
}

/** A start failure with how the process ended: a process killed by a signal logs nothing. */
function explain(p: Started): (e: unknown) => never {
  return (e) => {
    const how = `${p.name} exit code ${p.child.exitCode}, signal ${p.child.signalCode}`;
    throw new Error(`${e instanceof Error ? e.message.trimEnd() : String(e)} (${how})`);
  };
}

async function main(): Promise<void> {
  installExitHandlers();
  const plan = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as GuestPlan;
  const notes: string[] = [];
  const bootSeconds = uptime();
  const { soft } = fdLimits();
  if (soft < plan.connections + 1000) {
    throw new Error(`the guest's open-file limit is ${soft}, below ${plan.connections} + 1000 (see init.sh)`);
  }
  log(
    `kernel ${release()}, ${cpus().length} vCPUs, ${(totalmem() / 2 ** 20).toFixed(0)} MiB, fd limit ${soft}`,
  );

  const backend = start(
    "backend",
    process.execPath,
    [...process.execArgv, plan.backendScript, String(plan.backendPort)],
    "/tmp/backend.log",
  );
  const agent = start(
    "fulcrum-agent",
    process.execPath,
    [plan.agentBin, "--config", plan.snapshotFile],
    "/tmp/agent.log",
    { ...process.env, FULCRUM_LOG_LEVEL: "warn" },
  );
  const t0 = uptime();
  // tsx compiles the agent on every boot (~15 s under TCG, with no cache): the bound is generous.
  await waitForPort(plan.backendPort, backend, 600_000).catch(explain(backend));
  await waitForPort(plan.agentPort, agent, 600_000).catch(explain(agent));
  const first = await httpGet(plan.agentPort, 60_000);
  if (first.status !== 200)
    throw new Error(`the agent answered ${first.status}: ${first.body.slice(0, 200)}`);
  const agentStartSeconds = uptime() - t0;
  log(`agent ready after ${agentStartSeconds.toFixed(0)} s`);
  await sleep(1000);

  const { idle, memAvailableMiBHeld } = await measure(plan, agent, notes);
  const tail = logTail(agent, 12);
  if (tail) notes.push(`agent log (last lines): ${tail}`);
  await Promise.all([stop(agent), stop(backend)]);
  const guest: GuestInfo = {
    kernel: release(),
    vcpus: cpus().length,
    memoryMiB: Math.round(totalmem() / 2 ** 20),
    fdLimit: soft,
    node: process.version,
    bootSeconds: round1(bootSeconds),
    agentStartSeconds: round1(agentStartSeconds),
    memAvailableMiBHeld,
  };
  const result: GuestResult = { idle, guest, notes };
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    const msg = e instanceof Error ? e.message : String(e);
    // One line, so the host can show it as the reason.
    process.stdout.write(`${ERROR_MARKER}${JSON.stringify(msg)}\n`);
    killAll();
    process.exit(1);
  },
);
