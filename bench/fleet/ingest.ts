/**
 * Stats ingest: console CPU and memory while every simulated agent sends one `stats`
 * message per second (1 listener, 1 route, 1 pool, 20 backends, latency histograms on the
 * pool and the backends, as the real agent's sampler reports them), and request-to-graph
 * latency through `metrics.live` over tRPC SSE, the way the browser subscribes.
 */
import {
  createHistogram,
  type Histogram,
  recordValue,
  type StatsPoint,
  type TrafficDelta,
} from "../../packages/protocol/src/index.ts";
import { sleep, waitUntil } from "./clock.ts";
import type { ConsoleProcess } from "./console-process.ts";
import { Fleet } from "./fleet.ts";
import { type MemorySample, sampleMemory } from "./idle.ts";
import { realBackoff } from "./policies.ts";
import { disconnectFleet } from "./push.ts";
import type { Credential, SimAgent } from "./sim-agent.ts";
import { type Summary, summarize } from "./stats.ts";

export const INGEST_BACKENDS = 20;
/** Requests per second per simulated agent (5 per backend): 100k rps over 1,000 agents. */
const RPS_PER_AGENT = 100;
const WARMUP_S = 5;

export interface Topology {
  clusterId: string;
  listenerId: string;
  routeId: string;
  poolId: string;
  backendIds: string[];
  /** A viewer API token (`fk_…`), created by the admin through tRPC `token.create`. */
  viewerToken: string;
}

export interface IngestRun {
  agents: number;
  backends: number;
  seconds: number;
  /** stats messages sent per second by the fleet, and their mean encoded size. */
  messagesPerSec: number;
  meanMessageBytes: number;
  /** Console process (/proc/PID/stat), % of one core. */
  consoleCpuPct: number;
  /** The bench process (all simulated agents: building, encoding, sending), % of one core. */
  agentsCpuPct: number;
  memory: MemorySample;
  /** Cluster rps the console's 1 s series shows over the window vs. what the fleet sent. */
  graphedRps: number;
  sentRps: number;
}

export interface GraphLatency {
  samples: number;
  /** Request (t0) → the SSE `metrics.live` event with that second's rps > 0. */
  requestToGraphMs: Summary;
  /** t0 → the agent's tick sends the point (the agent's part). */
  tickWaitMs: Summary;
  /** Tick → SSE event (the console's part: the second completes 1.5 s after it ends, 250 ms ticks). */
  tickToEventMs: Summary;
  raw: Array<{ requestToGraphMs: number; tickWaitMs: number; tickToEventMs: number }>;
}

export interface IngestResult {
  runs: IngestRun[];
  latency: GraphLatency | null;
}

// ---------- tRPC over HTTP (the browser's wire format; superjson of plain JSON is {json}) ----------

async function trpc(
  url: string,
  headers: Record<string, string>,
  kind: "query" | "mutation",
  path: string,
  input: unknown,
) {
  const res =
    kind === "query"
      ? await fetch(`${url}/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`, {
          headers,
        })
      : await fetch(`${url}/api/trpc/${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify({ json: input }),
        });
  const body = (await res.json()) as { result?: { data?: { json?: unknown } }; error?: unknown };
  if (!res.ok || body.error) throw new Error(`${path}: HTTP ${res.status} ${JSON.stringify(body.error)}`);
  return body.result?.data?.json;
}

/**
 * The base topology comes from console-child's `setup` (1 listener, 1 route, 1 pool, 3
 * backends); the admin signs in over HTTP, adds backends up to 20 and creates a viewer token.
 */
export async function setupIngestTopology(
  url: string,
  clusterId: string,
  adminEmail: string,
  adminPassword: string,
): Promise<Topology> {
  const login = await fetch(`${url}/api/auth/sign-in/email`, {
    method: "POST",
    // better-auth checks Origin against the console's public URL; the child runs with PORT=0
    // and no FULCRUM_PUBLIC_URL, so that URL is http://localhost:0 (config.ts).
    headers: { "content-type": "application/json", origin: "http://localhost:0" },
    body: JSON.stringify({ email: adminEmail, password: adminPassword }),
  });
  if (!login.ok) throw new Error(`sign-in: HTTP ${login.status} ${await login.text()}`);
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const admin = { cookie };
  type Pool = { id: string; backends: Array<{ id: string }> };
  type Listener = { id: string; routes: Array<{ id: string }> };
  let [pool] = (await trpc(url, admin, "query", "pool.list", { clusterId })) as Pool[];
  if (!pool) throw new Error("no pool in the fleet cluster");
  for (let i = pool.backends.length; i < INGEST_BACKENDS; i++) {
    await trpc(url, admin, "mutation", "backend.create", {
      poolId: pool.id,
      name: `b${String(i).padStart(2, "0")}`,
      address: "127.0.0.1",
      port: 19001 + i,
    });
  }
  [pool] = (await trpc(url, admin, "query", "pool.list", { clusterId })) as Pool[];
  const [listener] = (await trpc(url, admin, "query", "listener.list", { clusterId })) as Listener[];
  const token = (await trpc(url, admin, "mutation", "token.create", {
    name: "fleet bench live graph",
    role: "viewer",
  })) as { secret?: string; token?: string };
  const viewerToken =
    token.secret ??
    token.token ??
    Object.values(token).find((v) => typeof v === "string" && v.startsWith("fk_"));
  if (typeof viewerToken !== "string")
    throw new Error(`token.create returned no secret: ${JSON.stringify(token)}`);
  if (!pool || !listener?.routes[0]) throw new Error("fleet topology is incomplete");
  return {
    clusterId,
    listenerId: listener.id,
    routeId: listener.routes[0].id,
    poolId: pool.id,
    backendIds: pool.backends.map((b) => b.id),
    viewerToken,
  };
}

// ---------- the stats a simulated agent sends ----------

/** Log-normal-ish response time around ~8 ms. */
function latencyMs(): number {
  const u = Math.random() + Math.random() + Math.random() - 1.5; // ≈ N(0, 0.5)
  return Math.exp(Math.log(8) + u * 1.2);
}

function delta(requests: number, h: Histogram | undefined): TrafficDelta {
  const s5xx = Math.random() < 0.02 ? 1 : 0;
  const s4xx = Math.random() < 0.1 ? 1 : 0;
  return {
    requests,
    s1xx: 0,
    s2xx: Math.max(0, requests - s4xx - s5xx),
    s3xx: 0,
    s4xx: Math.min(s4xx, requests),
    s5xx: Math.min(s5xx, requests),
    bytesIn: requests * 420,
    bytesOut: requests * 5200,
    connectionsOpened: Math.ceil(requests / 10),
    retries: 0,
    activeConnections: 3 + Math.floor(Math.random() * 4),
    queueLength: 0,
    ...(h ? { latency: h } : {}),
  };
}

/** One second of traffic: `perBackend[i]` requests to backend i (undefined: the steady load). */
export function buildPoint(
  topo: Topology,
  seq: number,
  endMs: number,
  perBackend?: readonly number[],
): StatsPoint {
  const backends: StatsPoint["backends"] = {};
  const poolHist = createHistogram();
  let total = 0;
  topo.backendIds.forEach((id, i) => {
    const n = perBackend ? (perBackend[i] ?? 0) : RPS_PER_AGENT / topo.backendIds.length;
    const h = createHistogram();
    for (let k = 0; k < n; k++) {
      const v = latencyMs();
      recordValue(h, v);
      recordValue(poolHist, v);
    }
    total += n;
    backends[id] = { ...delta(n, h), poolId: topo.poolId, status: "up" };
  });
  return {
    at: new Date(endMs).toISOString(),
    intervalMs: 1000,
    seq,
    listeners: { [topo.listenerId]: delta(total, undefined) },
    routes: { [topo.routeId]: delta(total, undefined) },
    pools: { [topo.poolId]: delta(total, poolHist) },
    backends,
  };
}

/** Every agent of `agents` sends one point per second, their send times spread evenly over the second. */
function startSenders(agents: readonly SimAgent[], topo: Topology) {
  const timers: NodeJS.Timeout[] = [];
  const stats = { sent: 0, bytes: 0, requests: 0 };
  const seqs = new Map<SimAgent, number>();
  agents.forEach((a, i) => {
    const send = () => {
      const seq = seqs.get(a) ?? 0;
      seqs.set(a, seq + 1);
      const point = buildPoint(topo, seq, Date.now());
      if (a.sendStats({ points: [point] })) {
        stats.sent++;
        stats.requests += point.listeners[topo.listenerId]?.requests ?? 0;
      }
    };
    const phase = Math.floor((i * 1000) / agents.length);
    timers.push(
      setTimeout(() => {
        send();
        timers.push(setInterval(send, 1000));
      }, phase),
    );
  });
  return {
    stats,
    stop() {
      for (const t of timers) {
        clearTimeout(t);
        clearInterval(t);
      }
    },
  };
}

function encodedSize(topo: Topology): number {
  return JSON.stringify({ type: "stats", payload: { points: [buildPoint(topo, 0, Date.now())] } }).length;
}

/** The console's 1 s cluster series (metrics.series, range 5m) over [fromMs, toMs): mean rps. */
async function graphedRps(url: string, topo: Topology, fromMs: number, toMs: number): Promise<number> {
  const r = (await trpc(url, { authorization: `Bearer ${topo.viewerToken}` }, "query", "metrics.series", {
    clusterId: topo.clusterId,
    scope: "cluster",
    range: "5m",
  })) as { points: Array<{ t: number; rps: number }> };
  const inside = r.points.filter((p) => p.t >= fromMs && p.t + 1000 <= toMs);
  return inside.length ? inside.reduce((s, p) => s + p.rps, 0) / inside.length : Number.NaN;
}

export async function measureIngest(
  c: ConsoleProcess,
  creds: readonly Credential[],
  topo: Topology,
  sizes: readonly number[],
  seconds: number,
  log: (m: string) => void,
): Promise<{ runs: IngestRun[]; fleet: Fleet }> {
  const fleet = new Fleet(creds, c.url, realBackoff);
  await fleet.connectAll(1);
  await sleep(1000);
  const runs: IngestRun[] = [];
  for (const n of sizes) {
    log(
      `ingest: ${n} agents × ${topo.backendIds.length} backends at 1 Hz, ${WARMUP_S} s warm-up + ${seconds} s`,
    );
    const senders = startSenders(fleet.agents.slice(0, n), topo);
    await sleep(WARMUP_S * 1000);
    const p0 = c.procStats();
    const u0 = process.cpuUsage();
    const w0 = performance.now();
    const s0 = senders.stats.sent;
    const from = Date.now();
    await sleep(seconds * 1000);
    const wall = performance.now() - w0;
    const p1 = c.procStats();
    const u1 = process.cpuUsage(u0);
    const sent = senders.stats.sent - s0;
    const to = Date.now();
    senders.stop();
    // Seconds complete 1.5 s after they end; let the last ones land before reading the series.
    await sleep(2500);
    const graphed = await graphedRps(c.url, topo, Math.ceil(from / 1000) * 1000 + 1000, to - 1000);
    const memory = await sampleMemory(c);
    runs.push({
      agents: n,
      backends: topo.backendIds.length,
      seconds: wall / 1000,
      messagesPerSec: sent / (wall / 1000),
      meanMessageBytes: encodedSize(topo),
      consoleCpuPct: ((p1.cpuMs - p0.cpuMs) / wall) * 100,
      agentsCpuPct: ((u1.user + u1.system) / 1000 / wall) * 100,
      memory,
      graphedRps: graphed,
      sentRps: n * RPS_PER_AGENT,
    });
    log(
      `ingest: ${n} agents: console ${runs.at(-1)?.consoleCpuPct.toFixed(0)}% of a core, agents ${runs.at(-1)?.agentsCpuPct.toFixed(0)}%`,
    );
    await sleep(2000);
  }
  return { runs, fleet };
}

// ---------- request → live graph ----------

/** `metrics.live` over tRPC SSE (httpSubscriptionLink's request); calls `onPoint` per data event. */
function subscribeLive(
  url: string,
  topo: Topology,
  onPoint: (p: { t: number; rps: number }, at: number) => void,
): { ready: Promise<void>; close: () => void } {
  const ac = new AbortController();
  const input = encodeURIComponent(JSON.stringify({ json: { clusterId: topo.clusterId, scope: "cluster" } }));
  const ready = (async () => {
    const res = await fetch(`${url}/api/trpc/metrics.live?input=${input}`, {
      headers: { accept: "text/event-stream", authorization: `Bearer ${topo.viewerToken}` },
      signal: ac.signal,
    });
    if (!res.ok || !res.body) throw new Error(`metrics.live: HTTP ${res.status} ${await res.text()}`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          const at = Date.now();
          buf += value;
          let cut = buf.indexOf("\n\n");
          while (cut >= 0) {
            const event = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            cut = buf.indexOf("\n\n");
            const data = event
              .split("\n")
              .filter((l) => l.startsWith("data:"))
              .map((l) => l.slice(5).trimStart())
              .join("\n");
            const isNamed = /^event:/m.test(event);
            if (!data || isNamed) continue; // connected / ping / return events
            const parsed = JSON.parse(data) as { json?: { t: number; rps: number } };
            if (parsed.json && typeof parsed.json.t === "number") onPoint(parsed.json, at);
          }
        }
      } catch {
        // aborted
      }
    })();
  })();
  return { ready, close: () => ac.abort() };
}

/**
 * One simulated agent ticks at 1 Hz (random phase) sending zero-traffic points; for each
 * sample a request "passes the proxy" at a random t0, is counted in the interval open at
 * t0, and that point goes out at the next tick. Measured: t0 → the first SSE event of
 * `metrics.live` (scope cluster) with rps > 0. The rest of the fleet is disconnected.
 */
export async function measureGraphLatency(
  c: ConsoleProcess,
  cred: Credential,
  topo: Topology,
  samples: number,
): Promise<GraphLatency> {
  const fleet = new Fleet([cred], c.url, realBackoff);
  await fleet.connectAll(1);
  const agent = fleet.agents[0] as SimAgent;
  let seq = 1_000_000;
  let pending: { t0: number } | null = null;
  let inFlight: { t0: number; tick: number } | null = null;
  const raw: GraphLatency["raw"] = [];
  const live = subscribeLive(c.url, topo, (p, at) => {
    if (!inFlight || p.rps <= 0) return;
    // Only the probe sends traffic, so the first point with rps > 0 after the send is ours.
    raw.push({
      requestToGraphMs: at - inFlight.t0,
      tickWaitMs: inFlight.tick - inFlight.t0,
      tickToEventMs: at - inFlight.tick,
    });
    inFlight = null;
  });
  await live.ready;
  const zero = new Array<number>(topo.backendIds.length).fill(0);
  const one = zero.map((_, i) => (i === 0 ? 1 : 0));
  await sleep(Math.random() * 1000); // random tick phase
  const tick = setInterval(() => {
    const now = Date.now();
    const counted = pending;
    pending = null;
    agent.sendStats({ points: [buildPoint(topo, seq++, now, counted ? one : zero)] });
    if (counted) inFlight = { t0: counted.t0, tick: now };
  }, 1000);
  try {
    // Let earlier traffic (the ingest runs) age out of the live stream first.
    await sleep(4000);
    for (let i = 0; i < samples; i++) {
      await sleep(Math.random() * 1000);
      pending = { t0: Date.now() };
      await waitUntil("the live graph to show the request", () => raw.length > i, 15_000, 5);
      await sleep(3000); // the next sample starts on a quiet graph
    }
  } finally {
    clearInterval(tick);
    live.close();
  }
  await disconnectFleet(c, fleet);
  return {
    samples: raw.length,
    requestToGraphMs: summarize(raw.map((r) => r.requestToGraphMs)),
    tickWaitMs: summarize(raw.map((r) => r.tickWaitMs)),
    tickToEventMs: summarize(raw.map((r) => r.tickToEventMs)),
    raw,
  };
}
