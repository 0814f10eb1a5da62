import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { escapeLabelValue } from "../src/metrics/prometheus";
import { type AgentProcess, spawnAgent } from "./helpers/agent-process";
import { freePort, get, type NamedBackend, startBackend } from "./helpers/net";
import { parsePrometheus, samples, scrape } from "./helpers/prometheus-text";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";

let dir: string;
let a: NamedBackend;
let b: NamedBackend;
const running: AgentProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fulcrum-metrics-"));
  a = await startBackend("a");
  b = await startBackend("b");
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});
afterAll(async () => {
  await a.close();
  await b.close();
  await rm(dir, { recursive: true, force: true });
});

describe("Prometheus endpoint", () => {
  it("escapes label values per the text format", () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });

  it("serves /metrics from a --config agent; the request counters match the traffic", async () => {
    const port = await freePort();
    const metricsPort = await freePort();
    // Names are printable text (no line breaks: the snapshot schema refuses them); quotes and backslashes still need escaping.
    const weird = 'we"ird\\name x';
    const file = join(dir, "snap.json");
    await writeFile(
      file,
      JSON.stringify(
        makeSnapshot(4, [httpListener(port)], [backend("a", a.port, { name: weird }), backend("b", b.port)]),
      ),
    );
    const agent = spawnAgent(["--config", file, "--name", "edge-7", "--metrics-port", String(metricsPort)]);
    running.push(agent);
    await agent.waitFor(/applied snapshot/);
    await agent.waitFor(/serving Prometheus metrics/);

    const sent = 9;
    for (let i = 0; i < sent; i++) expect((await get(port)).status).toBe(200);
    expect((await get(port, "/", { host: "x" })).status).toBe(200);

    const r = await scrape(metricsPort);
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const fams = parsePrometheus(r.body);

    const value = (name: string, match: Record<string, string> = {}) => {
      const s = samples(fams, name, match);
      expect(s.length, `${name} ${JSON.stringify(match)}`).toBeGreaterThan(0);
      return s.reduce((n, x) => n + x.value, 0);
    };
    const listener = `http-${port}`;
    expect(fams.get("fulcrum_requests_total")?.type).toBe("counter");
    expect(value("fulcrum_requests_total", { listener, route: "*/", pool: "web" })).toBe(sent + 1);
    expect(value("fulcrum_listener_requests_total", { listener })).toBe(sent + 1);
    expect(value("fulcrum_listener_responses_total", { listener, code_class: "2xx" })).toBe(sent + 1);
    expect(value("fulcrum_listener_responses_total", { listener, code_class: "5xx" })).toBe(0);
    expect(value("fulcrum_responses_total", { pool: "web", code_class: "2xx" })).toBe(sent + 1);
    expect(value("fulcrum_backend_attempts_total", { pool: "web", backend: "b" })).toBe(5);
    expect(value("fulcrum_bytes_total", { listener, direction: "out" })).toBeGreaterThan(0);
    expect(value("fulcrum_connections_total", { listener })).toBe(sent + 1);
    expect(fams.get("fulcrum_active_connections")?.type).toBe("gauge");
    expect(value("fulcrum_active_connections", { listener })).toBeGreaterThanOrEqual(0);
    expect(value("fulcrum_agent_info", { name: "edge-7", version: "0.1.0" })).toBe(1);
    expect(value("fulcrum_snapshot_version")).toBe(4);

    // The awkward name survives escaping and parsing; address:port labels each backend too.
    const up = samples(fams, "fulcrum_backend_up");
    expect(up.map((s) => s.labels.backend).sort()).toEqual(["b", weird].sort());
    expect(up.every((s) => s.value === 1)).toBe(true);
    expect(samples(fams, "fulcrum_backend_up", { backend: weird })[0]!.labels.address).toBe(
      `127.0.0.1:${a.port}`,
    );
    expect(value("fulcrum_backend_status", { backend: "b", status: "up" })).toBe(1);
    expect(value("fulcrum_health_transitions_total", { backend: "b" })).toBe(0);

    // The latency histogram: cumulative buckets in seconds, +Inf = _count = requests proxied.
    expect(fams.get("fulcrum_request_duration_seconds")?.type).toBe("histogram");
    const buckets = samples(fams, "fulcrum_request_duration_seconds_bucket", { pool: "web" });
    expect(buckets.at(-1)!.labels.le).toBe("+Inf");
    expect(buckets[0]!.labels.le).toBe("0.0001");
    const les = buckets.map((s) => Number(s.labels.le === "+Inf" ? Infinity : s.labels.le));
    expect([...les].sort((x, y) => x - y)).toEqual(les);
    for (let i = 1; i < buckets.length; i++)
      expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
    expect(buckets.at(-1)!.value).toBe(sent + 1);
    expect(value("fulcrum_request_duration_seconds_count", { pool: "web" })).toBe(sent + 1);
    const sum = value("fulcrum_request_duration_seconds_sum", { pool: "web" });
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(sent + 1); // seconds, not milliseconds, on loopback

    // Counters move with the next requests.
    await get(port);
    const again = parsePrometheus((await scrape(metricsPort)).body);
    expect(samples(again, "fulcrum_listener_requests_total", { listener })[0]!.value).toBe(sent + 2);
    expect(await agent.stop()).toBe(0);
  });

  it("exits 2 when --metrics-port is bad or taken", async () => {
    const bad = spawnAgent(["--config", "x.json", "--metrics-port", "http"]);
    running.push(bad);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toMatch(/--metrics-port must be a whole number/);

    const host = spawnAgent(["--config", "x.json", "--metrics-host", "0.0.0.0"]);
    running.push(host);
    expect(await host.exited).toBe(2);
    expect(host.stderr()).toMatch(/--metrics-host needs --metrics-port/);

    const file = join(dir, "taken.json");
    await writeFile(
      file,
      JSON.stringify(makeSnapshot(1, [httpListener(await freePort())], [backend("a", a.port)])),
    );
    const taken = spawnAgent(["--config", file, "--metrics-port", String(a.port)]);
    running.push(taken);
    expect(await taken.exited).toBe(2);
    expect(taken.stderr()).toMatch(/--metrics-port cannot bind 127\.0\.0\.1:\d+: .*EADDRINUSE/);
  });
});
