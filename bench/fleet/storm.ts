import { nowMs, sleep } from "./clock.ts";
import type { ConsoleProcess } from "./console-process.ts";
import type { Fleet } from "./fleet.ts";
import type { RetryPolicy } from "./sim-agent.ts";
import { buckets, percentile } from "./stats.ts";

export const BUCKET_MS = 100;

export interface StormResult {
  variant: string;
  agents: number;
  /** SIGKILL → the new console listening (process start, migrations check, admin bootstrap). */
  restartMs: number;
  /** Upgrades accepted per 100 ms bucket, bucket 0 starting when the new console listens. */
  arrivalsPer100ms: number[];
  peakPer100ms: number;
  peakPerSecond: number;
  /** New console listening → half of / all agents welcomed again. */
  halfReconnectedMs: number;
  allReconnectedMs: number;
  /** Connection attempts (the offered load, refused ones included) per 100 ms from the kill. */
  attemptsPer100msFromKill: number[];
  peakAttemptsPer100ms: number;
  /** Connection attempts from the kill until all were back (refused ones included). */
  attempts: number;
  refusedAttempts: number;
  /** Upgrade accepted → welcome received, per agent (the console's hello handling under load). */
  welcomeAfterOpenMs: { p50: number; p99: number; max: number };
  /** Snapshots the agents received after the restart (0 expected: nothing changed). */
  snapshotsAfterRestart: number;
  /** Console CPU from listening until every agent was back, ms and % of one core. */
  consoleCpuMs: number;
  consoleCpuPct: number;
}

/**
 * Kills the console (SIGKILL, as a crash), starts it again on the same port and
 * watches `fleet` come back under `policy`. The fleet must be connected and settled.
 */
export async function measureStorm(
  c: ConsoleProcess,
  fleet: Fleet,
  variant: string,
  policy: RetryPolicy,
): Promise<StormResult> {
  fleet.setPolicy(policy);
  const attempts: number[] = [];
  const opens: number[] = [];
  const welcomes: number[] = [];
  const openedAt = new Map<string, number>();
  const welcomeAfterOpen: number[] = [];
  let snapshots = 0;
  const stop = fleet.observe({
    attempt: (_a, t) => attempts.push(t),
    open: (a, t) => {
      opens.push(t);
      openedAt.set(a.cred.agentId, t);
    },
    welcome: (a, t) => {
      welcomes.push(t);
      const o = openedAt.get(a.cred.agentId);
      if (o !== undefined) welcomeAfterOpen.push(t - o);
    },
    snapshot: () => {
      snapshots++;
    },
  });

  const port = c.port;
  const killedAt = nowMs();
  await c.kill();
  await c.start(port);
  const readyAt = c.readyAt;
  const cpu0 = c.procStats().cpuMs;
  const deadline = Date.now() + 180_000;
  while (!fleet.agents.every((a) => a.connected)) {
    if (Date.now() > deadline) throw new Error(`${variant}: not every agent came back within 180 s`);
    await sleep(10);
  }
  const cpuMs = c.procStats().cpuMs - cpu0;
  const allAt = nowMs();
  // Late snapshots would arrive right after the welcome: give them a moment.
  await sleep(1000);
  stop();

  const fromReady = welcomes.map((t) => t - readyAt);
  const arrivals = buckets(opens, readyAt, BUCKET_MS);
  const peak = Math.max(0, ...arrivals);
  const offered = buckets(attempts, killedAt, BUCKET_MS);
  return {
    variant,
    agents: fleet.agents.length,
    restartMs: readyAt - killedAt,
    arrivalsPer100ms: arrivals,
    peakPer100ms: peak,
    peakPerSecond: peak * (1000 / BUCKET_MS),
    halfReconnectedMs: percentile(fromReady, 50),
    allReconnectedMs: Math.max(...fromReady),
    attemptsPer100msFromKill: offered,
    peakAttemptsPer100ms: Math.max(0, ...offered),
    attempts: attempts.length,
    refusedAttempts: attempts.length - opens.length,
    welcomeAfterOpenMs: {
      p50: percentile(welcomeAfterOpen, 50),
      p99: percentile(welcomeAfterOpen, 99),
      max: Math.max(...welcomeAfterOpen),
    },
    snapshotsAfterRestart: snapshots,
    consoleCpuMs: cpuMs,
    consoleCpuPct: (cpuMs / (allAt - readyAt)) * 100,
  };
}
