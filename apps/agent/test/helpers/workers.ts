import { execFileSync } from "node:child_process";
import { get } from "./net";

/**
 * Reading a `--workers N` agent from outside, as an operator would: which
 * worker accepted what comes from its own Prometheus output
 * (fulcrum_worker_connections_total), the worker processes from `ps`.
 */

export async function metrics(port: number): Promise<string> {
  return (await get(port, "/metrics")).body;
}

/** Per worker index: the value of `family` (e.g. fulcrum_worker_connections_total). */
export function perWorker(text: string, family: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of text.matchAll(new RegExp(`^${family}\\{worker="(\\d+)"\\} (\\S+)$`, "gm"))) {
    out.set(Number(m[1]), Number(m[2]));
  }
  return out;
}

/** Polls the agent's per-worker `family` until `check` holds (counters arrive with heartbeats, every 250 ms). */
export async function pollWorkers(
  port: number,
  family: string,
  check: (m: Map<number, number>) => boolean,
  ms = 10_000,
): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check(perWorker(await metrics(port), family))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/**
 * Polls until worker `index` has been restarted `restarts` times and serves
 * again. Read from the agent, not from `ps`: a killed worker is up (and listed)
 * until the control process has reaped it, and a new one is listed long before
 * it serves (a cold start takes seconds on a busy machine).
 */
export async function workerBack(metricsPort: number, index: number, restarts: number): Promise<boolean> {
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    const text = await metrics(metricsPort);
    if (
      (perWorker(text, "fulcrum_worker_restarts_total").get(index) ?? 0) >= restarts &&
      perWorker(text, "fulcrum_worker_up").get(index) === 1
    )
      return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** Connections each worker accepted since `before` (a perWorker reading of fulcrum_worker_connections_total). */
export function acceptedSince(before: Map<number, number>, now: Map<number, number>): number[] {
  return [...now.keys()].sort().map((i) => (now.get(i) ?? 0) - (before.get(i) ?? 0));
}

/** Polls until every one of `workers` workers accepted a connection since `before`. */
export async function allWorkersServedSince(
  metricsPort: number,
  before: Map<number, number>,
  workers = 2,
): Promise<boolean> {
  return pollWorkers(metricsPort, "fulcrum_worker_connections_total", (m) =>
    Array.from({ length: workers }, (_, i) => i).every((i) => (m.get(i) ?? 0) > (before.get(i) ?? 0)),
  );
}

/** Worker processes of the agent (children running the agent's entry point; tsx's esbuild is a child too). */
export function workerPids(agentPid: number): number[] {
  const out = execFileSync("ps", ["--ppid", String(agentPid), "-o", "pid=,args="], { encoding: "utf8" });
  return out
    .split("\n")
    .filter((l) => l.includes("fulcrum-agent"))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

/** `n` requests, each on a new connection, `concurrency` at a time; bodies (or "error: ...") in order of completion. */
export async function burst(
  port: number,
  n: number,
  concurrency: number,
  opts: { headers?: Record<string, string>; localAddress?: string } = {},
): Promise<string[]> {
  const bodies: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        const r = await get(port, "/", {
          headers: { connection: "close", ...opts.headers },
          ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
        }).catch((e: Error) => ({ status: 0, body: `error: ${e.message}`, headers: {} }));
        bodies.push(r.status === 200 ? r.body : r.body || `status ${r.status}`);
      }
    }),
  );
  return bodies;
}
