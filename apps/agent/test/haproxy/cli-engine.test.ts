import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnAgent } from "../helpers/agent-process";
import { freePort, get, type NamedBackend, startBackend } from "../helpers/net";
import { parsePrometheus, samples, scrape } from "../helpers/prometheus-text";
import { BIN, be, http, pool, snap } from "./fixtures";

let dir: string;
let a: NamedBackend;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fulcrum-cli-haproxy-"));
  a = await startBackend("a");
});
afterAll(async () => {
  await a.close();
  await rm(dir, { recursive: true, force: true });
});

describe("fulcrum-agent --engine haproxy", () => {
  it("serves a --config snapshot through HAProxy and stops HAProxy with the agent", async () => {
    const port = await freePort();
    const file = join(dir, "snap.json");
    await writeFile(
      file,
      JSON.stringify(snap(1, [http("web", port, "p1")], [pool("p1", [be("a", a.port)])])),
    );
    const agent = spawnAgent([
      "--config",
      file,
      "--engine",
      "haproxy",
      "--haproxy-bin",
      BIN,
      "--state-dir",
      dir,
    ]);
    try {
      await agent.waitFor(/applied snapshot/, 20_000);
      expect(agent.stderr()).toMatch(/data plane: haproxy/);
      expect((await get(port)).body).toBe("a");
    } finally {
      expect(await agent.stop()).toBe(0);
    }
    // HAProxy went with the agent: the port no longer answers.
    await expect(get(port)).rejects.toThrow(/ECONNREFUSED/);
  });

  it("feeds HAProxy's counters into the same Prometheus output as the builtin engine", async () => {
    const port = await freePort();
    const metricsPort = await freePort();
    const file = join(dir, "metrics.json");
    const stateDir = join(dir, "metrics-state");
    await writeFile(
      file,
      JSON.stringify(snap(3, [http("web", port, "p1")], [pool("p1", [be("a", a.port)])])),
    );
    const agent = spawnAgent(
      [
        "--config",
        file,
        "--engine",
        "haproxy",
        "--haproxy-bin",
        BIN,
        "--state-dir",
        stateDir,
        "--metrics-port",
        String(metricsPort),
      ],
      { FULCRUM_STATS_INTERVAL_MS: "200" },
    );
    try {
      await agent.waitFor(/applied snapshot/, 20_000);
      const sent = 5;
      for (let i = 0; i < sent; i++) expect((await get(port)).status).toBe(200);
      const total = (fams: ReturnType<typeof parsePrometheus>, name: string, match: Record<string, string>) =>
        samples(fams, name, match).reduce((n, x) => n + x.value, 0);
      // HAProxy's counters arrive with the next 1 s `show stat` poll.
      let fams = parsePrometheus((await scrape(metricsPort)).body);
      for (
        let i = 0;
        i < 100 && total(fams, "fulcrum_listener_requests_total", { listener: "web" }) < sent;
        i++
      ) {
        await new Promise((r) => setTimeout(r, 100));
        fams = parsePrometheus((await scrape(metricsPort)).body);
      }
      expect(total(fams, "fulcrum_listener_requests_total", { listener: "web" })).toBe(sent);
      expect(total(fams, "fulcrum_listener_responses_total", { listener: "web", code_class: "2xx" })).toBe(
        sent,
      );
      expect(total(fams, "fulcrum_responses_total", { pool: "p1", code_class: "2xx" })).toBe(sent);
      expect(total(fams, "fulcrum_backend_attempts_total", { pool: "p1", backend: "a" })).toBe(sent);
      expect(total(fams, "fulcrum_request_duration_seconds_count", { pool: "p1" })).toBe(sent);
      expect(total(fams, "fulcrum_snapshot_version", {})).toBe(3);
    } finally {
      expect(await agent.stop()).toBe(0);
    }
  });

  it("fails fast with what to fix when HAProxy is missing or the engine is unknown", async () => {
    const missing = spawnAgent([
      "--config",
      "x.json",
      "--engine",
      "haproxy",
      "--haproxy-bin",
      "/nonexistent/haproxy",
    ]);
    expect(await missing.exited).toBe(2);
    expect(missing.stderr()).toMatch(/install the haproxy package or pass --haproxy-bin/);

    const unknown = spawnAgent(["--config", "x.json", "--engine", "nginx"]);
    expect(await unknown.exited).toBe(2);
    expect(unknown.stderr()).toMatch(/--engine must be builtin or haproxy/);
  });
});
