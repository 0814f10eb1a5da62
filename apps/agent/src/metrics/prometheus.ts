import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { HISTOGRAM_BUCKETS_PER_DOUBLING, HISTOGRAM_UPPER_BOUNDS, type Snapshot } from "@fulcrum/protocol";
import { upstreamKey } from "../dataplane/pools/backend-state";
import type { EngineStats, WorkerStatus } from "../engines/engine";
import { errorMessage } from "../errors";
import type { Logger } from "../log";
import type { BackendStatusTracker } from "./backend-status";

/**
 * The Prometheus text exposition format (version 0.0.4), written by hand:
 * `# HELP`, `# TYPE`, then `name{label="value",…} value` lines.
 */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Record<string, string>;
type Kind = "counter" | "gauge" | "histogram";

/** Label values escape backslash, double quote and line feed. */
export const escapeLabelValue = (v: string): string =>
  v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const escapeHelp = (v: string): string => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v);
}

const formatLabels = (labels: Labels): string => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
};

/** One metric family; samples with identical labels are summed (counters) or replaced (gauges). */
class Family {
  private readonly samples = new Map<string, { suffix: string; labels: string; value: number }>();
  constructor(
    readonly name: string,
    readonly kind: Kind,
    readonly help: string,
  ) {}

  add(labels: Labels, value: number, suffix = ""): void {
    const l = formatLabels(labels);
    const k = `${suffix}${l}`;
    const s = this.samples.get(k);
    if (s && this.kind !== "gauge") s.value += value;
    else this.samples.set(k, { suffix, labels: l, value });
  }

  render(out: string[]): void {
    if (this.samples.size === 0) return;
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.kind}`);
    for (const s of this.samples.values())
      out.push(`${this.name}${s.suffix}${s.labels} ${formatValue(s.value)}`);
  }
}

/**
 * Upper bounds (seconds) of the exposed histogram buckets: one per doubling
 * of the protocol histogram (0.1 ms, 0.2 ms, … ~52 s), so each `le` count is
 * exact: it is the sum of whole protocol buckets.
 */
const EXPOSED_BUCKETS: readonly { le: string; through: number }[] = HISTOGRAM_UPPER_BOUNDS.flatMap((ms, i) =>
  i % HISTOGRAM_BUCKETS_PER_DOUBLING === 0
    ? [{ le: String(Number((ms / 1000).toPrecision(6))), through: i }]
    : [],
);

export interface PrometheusInput {
  stats: EngineStats | undefined;
  snapshot: Snapshot | undefined;
  status: BackendStatusTracker;
  agent: { name: string; version: string };
  /** Data-plane workers (--workers N > 1); absent with one in-process data plane. */
  workers?: readonly WorkerStatus[] | undefined;
}

const CODE_CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx"] as const;

/** Renders the agent's counters (cumulative since start) in the text format. */
export function renderPrometheus({ stats, snapshot, status, agent, workers }: PrometheusInput): string {
  const f = (name: string, kind: Kind, help: string) => new Family(name, kind, help);
  const info = f("fulcrum_agent_info", "gauge", "Agent name and software version; always 1.");
  const snapVersion = f(
    "fulcrum_snapshot_version",
    "gauge",
    "Version of the snapshot being served (absent before the first).",
  );
  const requests = f(
    "fulcrum_requests_total",
    "counter",
    "Requests (TCP: none) matched to a route, by listener, route (host and path prefix) and pool.",
  );
  const listenerRequests = f(
    "fulcrum_listener_requests_total",
    "counter",
    "Requests received by a listener, routed or not.",
  );
  const listenerResponses = f(
    "fulcrum_listener_responses_total",
    "counter",
    "Responses sent to clients by status class, local answers (404, 502, 503, 504) included.",
  );
  const aborted = f(
    "fulcrum_aborted_requests_total",
    "counter",
    "Requests whose client went away before any response head.",
  );
  const bytes = f(
    "fulcrum_bytes_total",
    "counter",
    "Bytes on the client side of a listener; in = from clients, out = to clients.",
  );
  const connections = f("fulcrum_connections_total", "counter", "Client connections accepted.");
  const active = f("fulcrum_active_connections", "gauge", "Client connections open now.");
  const tlsHandshakes = f(
    "fulcrum_tls_handshakes_total",
    "counter",
    'TLS handshakes completed on a listener; resumed="true" for resumed sessions (no certificate sent).',
  );
  const tlsFailures = f(
    "fulcrum_tls_handshake_failures_total",
    "counter",
    'Failed TLS handshakes by reason: "no_shared_cipher", "protocol_version", "unknown_name" (rejected SNI), "other".',
  );
  const poolRetries = f("fulcrum_pool_retries_total", "counter", "Retries on another backend.");
  const poolQueued = f("fulcrum_pool_queued_total", "counter", "Requests that waited in the pool queue.");
  const poolRejected = f(
    "fulcrum_pool_rejected_total",
    "counter",
    'Requests answered 503 by the pool: reason="queue_full", "queue_timeout" or "no_backend".',
  );
  const poolQueue = f("fulcrum_pool_queue_length", "gauge", "Requests waiting in the pool queue now.");
  const duration = f(
    "fulcrum_request_duration_seconds",
    "histogram",
    "Time from sending a request to a backend to its response head, per pool.",
  );
  const responses = f(
    "fulcrum_responses_total",
    "counter",
    "Backend responses by status class. A backend listed in two pools counts under both.",
  );
  const attempts = f(
    "fulcrum_backend_attempts_total",
    "counter",
    "Attempts sent to a backend: HTTP requests, upgrade tunnels and TCP connections.",
  );
  const failures = f(
    "fulcrum_backend_failures_total",
    "counter",
    'Failed attempts: kind="connect", "timeout", "before_response", "after_response".',
  );
  const backendBytes = f(
    "fulcrum_backend_bytes_total",
    "counter",
    "Bytes relayed for a backend; in = from clients, out = to clients.",
  );
  const inFlight = f("fulcrum_backend_in_flight", "gauge", "Attempts and tunnels open to a backend now.");
  const up = f(
    "fulcrum_backend_up",
    "gauge",
    "1 when the backend is up (healthy, enabled, not ejected), else 0.",
  );
  const statusSet = f(
    "fulcrum_backend_status",
    "gauge",
    "1 for the backend's current status: up, down, ejected, draining, disabled or unknown.",
  );
  const transitions = f(
    "fulcrum_health_transitions_total",
    "counter",
    "Active health check transitions (up or down) of a backend address.",
  );
  const ejections = f("fulcrum_backend_ejections_total", "counter", "Ejections by outlier detection.");

  info.add({ name: agent.name, version: agent.version }, 1);
  if (snapshot) snapVersion.add({}, snapshot.version);

  if (stats) {
    const listenerName = new Map<string, string>();
    const routeInfo = new Map<string, { listener: string; route: string; pool: string }>();
    const poolName = new Map<string, string>();
    for (const [id, p] of Object.entries(stats.pools)) poolName.set(id, p.name);
    for (const p of snapshot?.pools ?? []) poolName.set(p.id, p.name);
    for (const [id, l] of Object.entries(stats.listeners)) listenerName.set(id, l.name);
    for (const l of snapshot?.listeners ?? []) {
      listenerName.set(l.id, l.name);
      for (const r of l.routes) {
        routeInfo.set(r.id, {
          listener: l.name,
          route: l.protocol === "tcp" ? "tcp" : `${r.host || "*"}${r.pathPrefix}`,
          pool: poolName.get(r.poolId) ?? r.poolId,
        });
      }
    }

    for (const [id, l] of Object.entries(stats.listeners)) {
      const listener = listenerName.get(id) ?? id;
      listenerRequests.add({ listener }, l.requests);
      for (const c of CODE_CLASSES) listenerResponses.add({ listener, code_class: c }, l.responses[c]);
      aborted.add({ listener }, l.aborted);
      bytes.add({ listener, direction: "in" }, l.bytesIn);
      bytes.add({ listener, direction: "out" }, l.bytesOut);
      connections.add({ listener }, l.totalConnections);
      active.add({ listener }, l.activeConnections);
      if (l.tls) {
        tlsHandshakes.add({ listener, resumed: "false" }, l.tls.handshakes - l.tls.resumed);
        tlsHandshakes.add({ listener, resumed: "true" }, l.tls.resumed);
        const fails = l.tls.failures;
        tlsFailures.add({ listener, reason: "no_shared_cipher" }, fails.noSharedCipher);
        tlsFailures.add({ listener, reason: "protocol_version" }, fails.protocolVersion);
        tlsFailures.add({ listener, reason: "unknown_name" }, fails.unknownName);
        tlsFailures.add({ listener, reason: "other" }, fails.other);
      }
    }
    for (const [id, r] of Object.entries(stats.routes)) {
      // A route no longer in the snapshot keeps counting only while its id is served; skip strays.
      const ri = routeInfo.get(id);
      if (ri) requests.add(ri, r.requests);
    }
    for (const [id, p] of Object.entries(stats.pools)) {
      const pool = poolName.get(id) ?? id;
      poolRetries.add({ pool }, p.retries);
      poolQueued.add({ pool }, p.queued);
      poolRejected.add({ pool, reason: "queue_full" }, p.queueFull);
      poolRejected.add({ pool, reason: "queue_timeout" }, p.queueTimeouts);
      poolRejected.add({ pool, reason: "no_backend" }, p.noBackend);
      poolQueue.add({ pool }, p.queueLength);
      let cumulative = 0;
      let through = -1;
      for (const b of EXPOSED_BUCKETS) {
        for (let i = through + 1; i <= b.through; i++) cumulative += p.latency.counts[i] ?? 0;
        through = b.through;
        duration.add({ pool, le: b.le }, cumulative, "_bucket");
      }
      duration.add({ pool, le: "+Inf" }, p.latency.count, "_bucket");
      duration.add({ pool }, p.latency.sum / 1000, "_sum");
      duration.add({ pool }, p.latency.count, "_count");
    }

    for (const pool of snapshot?.pools ?? []) {
      for (const b of pool.backends) {
        const address = upstreamKey(b);
        const labels = { pool: pool.name, backend: b.name || address, address };
        const s = status.status(pool, b);
        up.add(labels, s === "up" ? 1 : 0);
        statusSet.add({ ...labels, status: s }, 1);
        const c = stats.backends[address];
        if (!c) continue;
        responses.add({ ...labels, code_class: "1xx" }, c.status1xx);
        responses.add({ ...labels, code_class: "2xx" }, c.status2xx);
        responses.add({ ...labels, code_class: "3xx" }, c.status3xx);
        responses.add({ ...labels, code_class: "4xx" }, c.status4xx);
        responses.add({ ...labels, code_class: "5xx" }, c.status5xx);
        attempts.add(labels, c.attempts);
        failures.add({ ...labels, kind: "connect" }, c.connectFailures);
        failures.add({ ...labels, kind: "timeout" }, c.timeouts);
        failures.add({ ...labels, kind: "before_response" }, c.failuresBeforeResponse);
        failures.add({ ...labels, kind: "after_response" }, c.failuresAfterResponse);
        backendBytes.add({ ...labels, direction: "in" }, c.bytesIn);
        backendBytes.add({ ...labels, direction: "out" }, c.bytesOut);
        inFlight.add(labels, c.inFlight);
        transitions.add(labels, c.healthTransitions);
        ejections.add(labels, c.ejections);
      }
    }
  }

  const workerUp = f("fulcrum_worker_up", "gauge", "1 while a data-plane worker serves (--workers N > 1).");
  const workerRestarts = f(
    "fulcrum_worker_restarts_total",
    "counter",
    "Restarts of a data-plane worker after it exited or was killed for a stuck event loop.",
  );
  const workerStalls = f(
    "fulcrum_worker_stalls_total",
    "counter",
    "Data-plane workers killed because their heartbeat stopped (stuck event loop).",
  );
  const workerCpu = f("fulcrum_worker_cpu_percent", "gauge", "CPU of a data-plane worker, in % of one core.");
  const workerLoopDelay = f(
    "fulcrum_worker_event_loop_delay_seconds",
    "gauge",
    "Longest event-loop delay of a data-plane worker over its last heartbeat interval (250 ms).",
  );
  const workerConnections = f(
    "fulcrum_worker_connections_total",
    "counter",
    "Client connections a data-plane worker accepted since it (re)started.",
  );
  for (const w of workers ?? []) {
    const labels = { worker: String(w.index) };
    workerUp.add(labels, w.up ? 1 : 0);
    workerRestarts.add(labels, w.restarts);
    workerStalls.add(labels, w.stalls);
    workerCpu.add(labels, w.cpuPercent);
    workerLoopDelay.add(labels, w.eventLoopDelayMs / 1000);
    workerConnections.add(labels, w.connections);
  }

  const out: string[] = [];
  for (const fam of [
    info,
    snapVersion,
    requests,
    listenerRequests,
    listenerResponses,
    aborted,
    bytes,
    connections,
    active,
    tlsHandshakes,
    tlsFailures,
    poolRetries,
    poolQueued,
    poolRejected,
    poolQueue,
    duration,
    responses,
    attempts,
    failures,
    backendBytes,
    inFlight,
    up,
    statusSet,
    transitions,
    ejections,
    workerUp,
    workerRestarts,
    workerStalls,
    workerCpu,
    workerLoopDelay,
    workerConnections,
  ]) {
    fam.render(out);
  }
  out.push("");
  return out.join("\n");
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves GET /metrics (and HEAD) on host:port; everything else is 404, other methods 405. */
export async function startMetricsServer(opts: {
  host: string;
  port: number;
  render: () => string;
  log: Logger;
}): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found; try /metrics\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    let body: string;
    try {
      body = opts.render();
    } catch (e) {
      opts.log.error("rendering /metrics failed", { error: errorMessage(e) });
      res.writeHead(500, { "content-type": "text/plain" }).end("metrics unavailable\n");
      return;
    }
    res.writeHead(200, {
      "content-type": PROMETHEUS_CONTENT_TYPE,
      "content-length": Buffer.byteLength(body),
      "cache-control": "no-store",
    });
    res.end(req.method === "HEAD" ? undefined : body);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
