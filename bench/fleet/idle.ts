import { sleep } from "./clock.ts";
import type { ConsoleProcess } from "./console-process.ts";
import type { MemoryResult } from "./ipc.ts";

export interface MemorySample {
  rss: number;
  heapUsedAfterGc: number;
  heapTotal: number;
  external: number;
}

export interface IdleResult {
  agents: number;
  seconds: number;
  /** Console process (from /proc/PID/stat) as % of one core over the window. */
  consoleCpuPct: number;
  /** The bench process (the simulated agents), process.cpuUsage, % of one core. */
  agentsCpuPct: number;
  before: MemorySample;
  idle: MemorySample;
  perAgentBytes: { rss: number; heap: number };
}

export async function sampleMemory(c: ConsoleProcess): Promise<MemorySample> {
  const m = (await c.request("memory", { gc: true })) as MemoryResult;
  return {
    rss: c.procStats().rss,
    heapUsedAfterGc: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
  };
}

/** CPU of the console and of the bench over `seconds` while `agents` agents idle, then memory. */
export async function measureIdle(
  c: ConsoleProcess,
  agents: number,
  seconds: number,
  before: MemorySample,
): Promise<IdleResult> {
  await sleep(2000);
  const p0 = c.procStats();
  const u0 = process.cpuUsage();
  const w0 = performance.now();
  await sleep(seconds * 1000);
  const wall = performance.now() - w0;
  const p1 = c.procStats();
  const u1 = process.cpuUsage(u0);
  const idle = await sampleMemory(c);
  return {
    agents,
    seconds: wall / 1000,
    consoleCpuPct: ((p1.cpuMs - p0.cpuMs) / wall) * 100,
    agentsCpuPct: ((u1.user + u1.system) / 1000 / wall) * 100,
    before,
    idle,
    perAgentBytes: {
      rss: (idle.rss - before.rss) / agents,
      heap: (idle.heapUsedAfterGc - before.heapUsedAfterGc) / agents,
    },
  };
}
