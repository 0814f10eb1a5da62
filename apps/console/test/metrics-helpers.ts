import {
  AGENT_ENROLL_PATH,
  AGENT_GATEWAY_PATH,
  type ConsoleMessage,
  createHistogram,
  decodeConsoleMessage,
  encodeAgentMessage,
  enrollResponseSchema,
  type HealthEvent,
  type Histogram,
  recordValue,
  type StatsPoint,
  type TrafficDelta,
} from "@fulcrum/protocol";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import WebSocket from "ws";
import type { RunningConsole } from "../src/server/start";
import { actors, callerAs } from "./harness";

/**
 * A simulated agent over a real WebSocket: enrolls through the HTTP endpoint,
 * says hello, acks (or nacks) snapshots and sends `stats` messages.
 */
export interface FakeAgent {
  id: string;
  name: string;
  received: ConsoleMessage[];
  /** What to answer to the next snapshots. */
  answer: { kind: "ack" } | { kind: "nack"; reason: string };
  stats(points: StatsPoint[]): void;
  health(events: HealthEvent[]): void;
  close(): Promise<void>;
}

export async function connectFakeAgent(
  c: RunningConsole & { url: string },
  clusterId: string,
  name: string,
): Promise<FakeAgent> {
  const token = await callerAs(c, actors.admin).agent.createEnrollmentToken({ clusterId });
  const res = await fetch(`${c.url}${AGENT_ENROLL_PATH}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: token.secret, name }),
  });
  if (res.status !== 200) throw new Error(`enroll failed: ${res.status} ${await res.text()}`);
  const enrolled = enrollResponseSchema.parse(await res.json());
  const ws = new WebSocket(`${c.url.replace(/^http/, "ws")}${AGENT_GATEWAY_PATH}`, {
    headers: { authorization: `Bearer ${enrolled.credential}` },
  });
  const received: ConsoleMessage[] = [];
  const agent: FakeAgent = {
    id: enrolled.agentId,
    name,
    received,
    answer: { kind: "ack" },
    stats(points) {
      ws.send(encodeAgentMessage("stats", { points }));
    },
    health(events) {
      ws.send(encodeAgentMessage("health", { events }));
    },
    async close() {
      if (ws.readyState === ws.CLOSED) return;
      await new Promise<void>((resolve) => {
        ws.once("close", () => resolve());
        ws.close();
      });
    },
  };
  const welcomed = new Promise<void>((resolve, reject) => {
    ws.on("error", reject);
    ws.on("message", (data) => {
      const decoded = decodeConsoleMessage(data.toString());
      if (!decoded.ok) return;
      const msg = decoded.message;
      received.push(msg);
      if (msg.type === "welcome") resolve();
      if (msg.type === "snapshot") {
        const { version, hash } = msg.payload.snapshot;
        ws.send(
          agent.answer.kind === "ack"
            ? encodeAgentMessage("ack", { version, hash })
            : encodeAgentMessage("nack", { version, reason: agent.answer.reason }),
        );
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  ws.send(
    encodeAgentMessage("hello", {
      name,
      softwareVersion: "fake-1",
      protocolVersions: [1],
      capabilities: [],
      appliedVersion: null,
      appliedHash: null,
    }),
  );
  await welcomed;
  return agent;
}

export function latency(...ms: number[]): Histogram {
  const h = createHistogram();
  for (const v of ms) recordValue(h, v);
  return h;
}

export function delta(d: Partial<TrafficDelta>): TrafficDelta {
  return {
    requests: 0,
    s1xx: 0,
    s2xx: 0,
    s3xx: 0,
    s4xx: 0,
    s5xx: 0,
    bytesIn: 0,
    bytesOut: 0,
    connectionsOpened: 0,
    retries: 0,
    activeConnections: 0,
    queueLength: 0,
    ...d,
  };
}

/** A 1-second point ending at `endMs`. */
export function point(
  endMs: number,
  seq: number,
  parts: Partial<Pick<StatsPoint, "listeners" | "routes" | "pools" | "backends">>,
): StatsPoint {
  return {
    at: new Date(endMs).toISOString(),
    intervalMs: 1000,
    seq,
    listeners: {},
    routes: {},
    pools: {},
    backends: {},
    ...parts,
  };
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE =
  /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*)?\})? ([-+]?(?:[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|NaN|Inf))( -?[0-9]+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/g;

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface PromFamily {
  name: string;
  type: string;
  help: string;
  samples: PromSample[];
}

/**
 * A strict parser for the Prometheus text format (0.0.4): every line is
 * `# HELP`, `# TYPE` or a sample; HELP and TYPE come once per family, before
 * its samples, which are contiguous; counters end in `_total`; histograms have
 * cumulative `_bucket`s ending in `le="+Inf"` equal to `_count`, and `_sum`;
 * no series appears twice. Throws on the first violation.
 */
export function parsePrometheusStrict(text: string): Map<string, PromFamily> {
  if (!text.endsWith("\n")) throw new Error("exposition must end with a newline");
  const families = new Map<string, PromFamily>();
  const seen = new Set<string>();
  let current: PromFamily | undefined;
  const familyOf = (sample: string): PromFamily | undefined => {
    for (const f of [current, ...families.values()]) {
      if (!f) continue;
      if (sample === f.name) return f;
      if (f.type === "histogram" && ["_bucket", "_sum", "_count"].some((s) => sample === f.name + s))
        return f;
    }
    return undefined;
  };
  const lines = text.slice(0, -1).split("\n");
  lines.forEach((line, n) => {
    const where = `line ${n + 1} (${JSON.stringify(line)})`;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
      if (!m) throw new Error(`${where}: comment is not # HELP or # TYPE`);
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name`);
      let f = families.get(name);
      if (!f) {
        f = { name, type: "", help: "", samples: [] };
        families.set(name, f);
      } else if (f.samples.length > 0) {
        throw new Error(`${where}: ${kind} after samples of ${name}`);
      }
      if (kind === "TYPE") {
        if (f.type) throw new Error(`${where}: second TYPE for ${name}`);
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(rest))
          throw new Error(`${where}: unknown type`);
        f.type = rest;
      } else {
        if (f.help) throw new Error(`${where}: second HELP for ${name}`);
        f.help = rest;
      }
      current = f;
      return;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`${where}: not a valid sample line`);
    const [, name, labelText, rawValue] = m as unknown as [string, string, string | undefined, string];
    const f = familyOf(name);
    if (!f?.type) throw new Error(`${where}: sample without a preceding # TYPE`);
    if (f !== current) throw new Error(`${where}: samples of ${f.name} are not contiguous`);
    const labels: Record<string, string> = {};
    for (const lm of (labelText ?? "").matchAll(LABEL)) {
      if (lm[1]! in labels) throw new Error(`${where}: duplicate label ${lm[1]}`);
      labels[lm[1]!] = lm[2]!.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    }
    const key = `${name}{${Object.entries(labels)
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(",")}}`;
    if (seen.has(key)) throw new Error(`${where}: duplicate series`);
    seen.add(key);
    const value =
      rawValue === "NaN"
        ? Number.NaN
        : /Inf$/.test(rawValue)
          ? Number(rawValue.replace("Inf", "Infinity"))
          : Number(rawValue);
    f.samples.push({ name, labels, value });
  });
  for (const f of families.values()) {
    if (!f.type) throw new Error(`${f.name}: no # TYPE`);
    if (f.type === "counter" && !f.name.endsWith("_total"))
      throw new Error(`${f.name}: counter without _total`);
    if (f.type === "histogram") checkHistogram(f);
  }
  // A second opinion: the npm parser must read the same families (it throws on malformed input).
  const independent = new Set(parsePrometheusTextFormat(text).map((f) => f.name));
  const ours = new Set(families.keys());
  if (independent.size !== ours.size || [...ours].some((n) => !independent.has(n))) {
    throw new Error(`parse-prometheus-text-format read other families: ${[...independent].join(", ")}`);
  }
  return families;
}

function checkHistogram(f: PromFamily): void {
  const groups = new Map<string, PromSample[]>();
  for (const s of f.samples) {
    const { le: _le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const [key, samples] of groups) {
    const buckets = samples.filter((s) => s.name === `${f.name}_bucket`);
    const count = samples.find((s) => s.name === `${f.name}_count`);
    const sum = samples.find((s) => s.name === `${f.name}_sum`);
    if (!count || !sum || buckets.length === 0) throw new Error(`${f.name}${key}: incomplete histogram`);
    let prevLe = Number.NEGATIVE_INFINITY;
    let prev = 0;
    for (const b of buckets) {
      const le = b.labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(b.labels.le);
      if (b.labels.le === undefined || Number.isNaN(le) || le <= prevLe)
        throw new Error(`${f.name}${key}: buckets not in increasing le order`);
      if (b.value < prev) throw new Error(`${f.name}${key}: buckets not cumulative`);
      prevLe = le;
      prev = b.value;
    }
    if (prevLe !== Number.POSITIVE_INFINITY) throw new Error(`${f.name}${key}: no +Inf bucket`);
    if (prev !== count.value) throw new Error(`${f.name}${key}: +Inf bucket differs from _count`);
  }
}
