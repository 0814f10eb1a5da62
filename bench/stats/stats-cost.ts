/**
 * What statistics cost the data plane: the counter and histogram updates one
 * proxied HTTP request makes on the hot path, and the once-a-second sampling
 * that turns the counters into a stats point for the console (with every
 * entry listed, the worst case). CPU time is read from process.cpuUsage, so
 * other load on the machine inflates wall time but not these figures much.
 *
 *   pnpm --filter @fulcrum/bench stats [--requests 5000000] [--pools 50 --backends 20]
 */
import { parseArgs } from "node:util";
import { NodeEngine } from "@fulcrum/agent";
import {
  AppliedSnapshots,
  BackendCounters,
  BackendStatusTracker,
  countBytes,
  countResponse,
  countStatus,
  PoolCounters,
  StatsSampler,
  TrafficCounters,
} from "@fulcrum/agent/internals";
import { createHistogram, recordValue, type SnapshotInput, snapshotSchema } from "@fulcrum/protocol";
import { freePort } from "../proxy/processes";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "5000000" },
    pools: { type: "string", default: "50" },
    backends: { type: "string", default: "20" },
    samples: { type: "string", default: "200" },
  },
});
const REQUESTS = Number(values.requests);
const POOLS = Number(values.pools);
const BACKENDS = Number(values.backends);
const SAMPLES = Number(values.samples);

function cpuNs(fn: () => void): number {
  const before = process.cpuUsage();
  fn();
  const d = process.cpuUsage(before);
  return (d.user + d.system) * 1000;
}

/** Realistic latencies (0.2 ms .. 200 ms, log-spread) so histogram buckets vary like in traffic. */
const LATENCIES = Float64Array.from({ length: 4096 }, (_, i) => 0.2 * 1000 ** (((i * 7919) % 4096) / 4096));
const STATUSES = Uint16Array.from({ length: 4096 }, (_, i) =>
  i % 50 === 0 ? 503 : i % 20 === 0 ? 404 : 200,
);

/** Exactly the updates the h1 fast path and the pool runtime make for one proxied request. */
function hotPath(n: number, withStats: boolean): number {
  const l = new TrafficCounters();
  const r = new TrafficCounters();
  const p = new PoolCounters(createHistogram());
  const backends = Array.from({ length: 8 }, () => new BackendCounters(createHistogram()));
  let sink = 0;
  const ns = cpuNs(() => {
    for (let i = 0; i < n; i++) {
      const j = i & 4095;
      const ms = LATENCIES[j]!;
      const status = STATUSES[j]!;
      const b = backends[i & 7]!;
      // The work every request does regardless of statistics, so the loop is not empty.
      sink += ms + status;
      if (!withStats) continue;
      l.requests++;
      r.requests++;
      p.requests++;
      b.attempts++;
      b.bytesIn += 120;
      b.bytesOut += 512;
      countStatus(b, status);
      recordValue(b.latency, ms);
      recordValue(p.latency, ms);
      countResponse(status, l, r, p);
      countBytes(120, 512, l, r, p);
    }
  });
  if (sink === -1) console.log(sink);
  return ns / n;
}

function snapshotFor(port: number): SnapshotInput {
  const pools = Array.from({ length: POOLS }, (_, pi) => ({
    id: `pool-${pi}`,
    name: `pool-${pi}`,
    policy: "round_robin" as const,
    policyOptions: {},
    healthCheck: { type: "none" as const },
    persistence: { type: "none" as const },
    backends: Array.from({ length: BACKENDS }, (_, bi) => ({
      id: `b-${pi}-${bi}`,
      name: `b-${pi}-${bi}`,
      address: "127.0.0.1",
      port: 20_000 + pi * BACKENDS + bi,
      weight: 100,
      state: "enabled" as const,
      backup: false,
    })),
  }));
  return {
    version: 1,
    hash: "0".repeat(64),
    clusterId: "bench",
    createdAt: new Date().toISOString(),
    listeners: [
      {
        id: "l",
        name: "l",
        protocol: "http",
        bindAddress: "127.0.0.1",
        port,
        routes: pools.map((p, i) => ({
          id: `r-${i}`,
          host: `${p.name}.test`,
          pathPrefix: "/",
          priority: 0,
          poolId: p.id,
        })),
      },
    ],
    pools,
  };
}

/** One sampler tick with every listener, route, pool and backend listed (a keyframe). */
async function samplerTick(): Promise<{ ns: number; entries: number; bytes: number }> {
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  const engine = new NodeEngine({ log: silent as never });
  const snapshots = new AppliedSnapshots();
  // keyframeEvery 1: every point lists every entry, idle or not (the worst case).
  const sampler = new StatsSampler({
    engine,
    snapshots,
    status: new BackendStatusTracker(),
    keyframeEvery: 1,
  });
  const snapshot = snapshotSchema.parse(snapshotFor(await freePort()));
  snapshots.offer(snapshot);
  await engine.apply(snapshot);
  try {
    let entries = 0;
    let bytes = 0;
    // Warm up, then time ticks that each list every entry.
    for (let i = 0; i < 20; i++) sampler.sample();
    const ns = cpuNs(() => {
      for (let i = 0; i < SAMPLES; i++) {
        const point = sampler.sample();
        if (point && i === 0) {
          entries =
            Object.keys(point.listeners).length +
            Object.keys(point.routes).length +
            Object.keys(point.pools).length +
            Object.keys(point.backends).length;
          bytes = JSON.stringify(point).length;
        }
      }
    });
    return { ns: ns / SAMPLES, entries, bytes };
  } finally {
    await engine.stop();
  }
}

async function main() {
  const rounds = 5;
  const base: number[] = [];
  const full: number[] = [];
  hotPath(500_000, true);
  hotPath(500_000, false);
  for (let i = 0; i < rounds; i++) {
    base.push(hotPath(REQUESTS, false));
    full.push(hotPath(REQUESTS, true));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const perRequest = median(full) - median(base);
  const tick = await samplerTick();
  const result = {
    requests: REQUESTS,
    rounds,
    hotPathNsPerRequest: Number(perRequest.toFixed(1)),
    sampler: {
      pools: POOLS,
      backendsPerPool: BACKENDS,
      entriesPerPoint: tick.entries,
      pointJsonBytes: tick.bytes,
      cpuMsPerTick: Number((tick.ns / 1e6).toFixed(3)),
      shareOfOneCoreAt1Hz: Number((tick.ns / 1e9).toFixed(5)),
    },
  };
  console.log(JSON.stringify(result, null, 2));
}

await main();
