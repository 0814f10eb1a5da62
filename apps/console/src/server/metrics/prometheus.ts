import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type HandshakeDelta, HISTOGRAM_BUCKET_COUNT, HISTOGRAM_UPPER_BOUNDS } from "@fulcrum/protocol";
import type { Services } from "../services";
import type { HandshakeTotals } from "./handshake-totals";

export const PROMETHEUS_PATH = "/metrics";
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Prometheus `le` bounds (seconds) the fixed latency buckets are folded into. */
const LE_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const CODE_CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx"] as const;

/**
 * Index into LE_SECONDS of the smallest bound ≥ each fixed bucket's upper
 * bound, so a bucket is counted under an `le` only when all of it lies below.
 * The overflow bucket only counts under +Inf (-1).
 */
const LE_OF_BUCKET: readonly number[] = Array.from({ length: HISTOGRAM_BUCKET_COUNT }, (_, i) => {
  const upperMs = HISTOGRAM_UPPER_BOUNDS[i];
  if (upperMs === undefined) return -1;
  return LE_SECONDS.findIndex((le) => le * 1000 >= upperMs - 1e-9);
});

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v);
}

class Exposition {
  private readonly lines: string[] = [];
  family(name: string, type: "counter" | "gauge" | "histogram", help: string): void {
    this.lines.push(
      `# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`,
      `# TYPE ${name} ${type}`,
    );
  }
  sample(name: string, labels: Record<string, string>, value: number): void {
    const l = Object.entries(labels)
      .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
      .join(",");
    this.lines.push(`${name}${l ? `{${l}}` : ""} ${formatValue(value)}`);
  }
  toString(): string {
    return `${this.lines.join("\n")}\n`;
  }
}

/** The Prometheus text exposition of this console's view of the fleet. */
export async function renderPrometheus(services: Services): Promise<string> {
  const { prisma, gateway, metrics } = services;
  const [clusters, pools, listeners, agents, versions] = await Promise.all([
    prisma.cluster.findMany({ select: { id: true, name: true }, orderBy: { name: "asc" } }),
    prisma.pool.findMany({ select: { id: true, name: true } }),
    prisma.listener.findMany({ select: { id: true, name: true } }),
    prisma.agent.findMany({
      where: { revokedAt: null },
      select: { id: true, name: true, clusterId: true, appliedVersion: true },
      orderBy: { name: "asc" },
    }),
    prisma.configVersion.groupBy({ by: ["clusterId"], _max: { version: true } }),
  ]);
  const clusterName = new Map(clusters.map((c) => [c.id, c.name]));
  const poolName = new Map(pools.map((p) => [p.id, p.name]));
  const connected = gateway.connectedAgentIds();
  const out = new Exposition();

  out.family(
    "fulcrum_cluster_requests_total",
    "counter",
    "Responses through each pool since this console started, by status class, from the agents connected to this console.",
  );
  const totals = [...metrics.totals()].filter(([clusterId]) => clusterName.has(clusterId));
  for (const [clusterId, byPool] of totals) {
    for (const [poolId, t] of byPool) {
      const labels = { cluster: clusterName.get(clusterId)!, pool: poolName.get(poolId) ?? poolId };
      CODE_CLASSES.forEach((code_class, i) => {
        out.sample("fulcrum_cluster_requests_total", { ...labels, code_class }, t.byClass[i]!);
      });
    }
  }

  out.family(
    "fulcrum_pool_request_duration_seconds",
    "histogram",
    "Time to the response head per pool since this console started, from the agents connected to this console.",
  );
  for (const [clusterId, byPool] of totals) {
    for (const [poolId, t] of byPool) {
      const labels = { cluster: clusterName.get(clusterId)!, pool: poolName.get(poolId) ?? poolId };
      const perLe = new Array<number>(LE_SECONDS.length).fill(0);
      for (let i = 0; i < HISTOGRAM_BUCKET_COUNT; i++) {
        const le = LE_OF_BUCKET[i]!;
        if (le >= 0) perLe[le]! += t.hist[i]!;
      }
      let cumulative = 0;
      LE_SECONDS.forEach((le, i) => {
        cumulative += perLe[i]!;
        out.sample("fulcrum_pool_request_duration_seconds_bucket", { ...labels, le: String(le) }, cumulative);
      });
      out.sample("fulcrum_pool_request_duration_seconds_bucket", { ...labels, le: "+Inf" }, t.latencyCount);
      out.sample("fulcrum_pool_request_duration_seconds_sum", labels, t.latencySum / 1000);
      out.sample("fulcrum_pool_request_duration_seconds_count", labels, t.latencyCount);
    }
  }

  renderHandshakes(out, metrics.handshakes(), {
    cluster: clusterName,
    listener: new Map(listeners.map((l) => [l.id, l.name])),
    agent: new Map(agents.map((a) => [a.id, a.name])),
  });

  out.family("fulcrum_agents_connected", "gauge", "Agents connected to this console.");
  for (const c of clusters) {
    const n = agents.filter((a) => a.clusterId === c.id && connected.has(a.id)).length;
    out.sample("fulcrum_agents_connected", { cluster: c.name }, n);
  }

  out.family(
    "fulcrum_stats_entries_dropped_total",
    "counter",
    "Stats entries agents sent since this console started naming ids outside their cluster's recent config versions (dropped).",
  );
  const dropped = metrics.droppedIds();
  for (const c of clusters)
    out.sample("fulcrum_stats_entries_dropped_total", { cluster: c.name }, dropped.get(c.id) ?? 0);

  out.family("fulcrum_config_version", "gauge", "Latest configuration version of each cluster.");
  for (const v of versions) {
    const name = clusterName.get(v.clusterId);
    if (name !== undefined && v._max.version !== null)
      out.sample("fulcrum_config_version", { cluster: name }, v._max.version);
  }

  out.family("fulcrum_agent_applied_version", "gauge", "Configuration version each agent last applied.");
  for (const a of agents) {
    const name = clusterName.get(a.clusterId);
    if (name !== undefined && a.appliedVersion !== null)
      out.sample("fulcrum_agent_applied_version", { cluster: name, agent: a.name }, a.appliedVersion);
  }

  out.family(
    "fulcrum_certificate_expiry_seconds",
    "gauge",
    "Seconds until each certificate's notAfter (negative once expired).",
  );
  const certificates = await prisma.certificate.findMany({
    select: { name: true, clusterId: true, notAfter: true },
    orderBy: { name: "asc" },
  });
  for (const c of certificates) {
    const name = clusterName.get(c.clusterId);
    const seconds = Math.floor((c.notAfter.getTime() - Date.now()) / 1000);
    if (name !== undefined)
      out.sample("fulcrum_certificate_expiry_seconds", { certificate: c.name, cluster: name }, seconds);
  }
  return out.toString();
}

const FAILURE_REASONS = [
  ["failedNoSharedCipher", "no_shared_cipher"],
  ["failedProtocolVersion", "protocol_version"],
  ["failedUnknownName", "unknown_name"],
  ["failedOther", "other"],
] as const;

/**
 * Per listener and per agent (node), under the agent's own family names with a
 * `fulcrum_listener_` prefix: a deleted listener or agent keeps its id as name.
 */
function renderHandshakes(
  out: Exposition,
  totals: HandshakeTotals,
  names: {
    cluster: ReadonlyMap<string, string>;
    listener: ReadonlyMap<string, string>;
    agent: ReadonlyMap<string, string>;
  },
): void {
  const rows: Array<{ labels: Record<string, string>; t: HandshakeDelta }> = [];
  for (const [clusterId, byListener] of totals) {
    const cluster = names.cluster.get(clusterId);
    if (cluster === undefined) continue;
    for (const [listenerId, byAgent] of byListener) {
      const listener = names.listener.get(listenerId) ?? listenerId;
      for (const [agentId, t] of byAgent) {
        rows.push({ labels: { cluster, listener, agent: names.agent.get(agentId) ?? agentId }, t });
      }
    }
  }
  out.family(
    "fulcrum_listener_tls_handshakes_total",
    "counter",
    'TLS handshakes completed per listener and node since this console started; resumed="true" for resumed sessions.',
  );
  for (const { labels, t } of rows) {
    out.sample(
      "fulcrum_listener_tls_handshakes_total",
      { ...labels, resumed: "false" },
      t.handshakes - t.resumed,
    );
    out.sample("fulcrum_listener_tls_handshakes_total", { ...labels, resumed: "true" }, t.resumed);
  }
  out.family(
    "fulcrum_listener_tls_handshake_failures_total",
    "counter",
    'Failed TLS handshakes per listener and node since this console started, by reason: "no_shared_cipher", "protocol_version", "unknown_name" (rejected SNI), "other".',
  );
  for (const { labels, t } of rows) {
    for (const [field, reason] of FAILURE_REASONS) {
      out.sample("fulcrum_listener_tls_handshake_failures_total", { ...labels, reason }, t[field]);
    }
  }
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/** GET /metrics; with FULCRUM_METRICS_TOKEN set, only for `Authorization: Bearer <token>`. */
export async function handlePrometheus(
  services: Services,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" });
    res.end("method not allowed\n");
    return;
  }
  const token = services.config.metrics.token;
  if (token) {
    const given = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1] ?? "";
    if (!timingSafeEqual(digest(given), digest(token))) {
      res.writeHead(401, { "www-authenticate": 'Bearer realm="metrics"', "content-type": "text/plain" });
      res.end("unauthorized\n");
      return;
    }
  }
  const body = await renderPrometheus(services);
  res.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" });
  res.end(req.method === "HEAD" ? undefined : body);
}
