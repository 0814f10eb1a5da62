import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeConsoleMessage, MAX_STATS_POINTS_PER_MESSAGE, type StatsPoint } from "@fulcrum/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, spawnAgent } from "./helpers/agent-process";
import { freePort, get, type NamedBackend, startBackend } from "./helpers/net";
import { parsePrometheus, samples, scrape } from "./helpers/prometheus-text";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";
import { startStandInConsole } from "./helpers/stand-in-console";

let dir: string;
let a: NamedBackend;
const running: AgentProcess[] = [];
const consoles: { close(): void }[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fulcrum-stats-"));
  a = await startBackend("a");
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
  for (const c of consoles.splice(0)) c.close();
});
afterAll(async () => {
  await a.close();
  await rm(dir, { recursive: true, force: true });
});

const INTERVAL_MS = 25;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startAgent(name: string, extra: string[]) {
  const console_ = await startStandInConsole({ welcome: "manual" });
  consoles.push(console_);
  const agent = spawnAgent(
    [
      "--console",
      console_.url,
      "--token",
      "tok-0123456789abcdef",
      "--state-dir",
      join(dir, name),
      "--name",
      name,
      ...extra,
    ],
    { FULCRUM_STATS_INTERVAL_MS: String(INTERVAL_MS) },
  );
  running.push(agent);
  return { console_, agent };
}

describe("stats to the console", () => {
  it("sends points live, buffers them while disconnected, and replays them in order after the next welcome", async () => {
    const port = await freePort();
    const metricsPort = await freePort();
    const { console_, agent } = await startAgent("edge-buf", ["--metrics-port", String(metricsPort)]);
    await console_.waitFor(() => console_.frames.some((r) => r.message.type === "hello"), "hello");
    const first = console_.sockets[0]!;
    console_.welcome(first);
    const snap = makeSnapshot(3, [httpListener(port)], [backend("a", a.port)]);
    first.send(encodeConsoleMessage("snapshot", { snapshot: snap }));
    await console_.waitFor(() => console_.frames.some((r) => r.message.type === "ack"), "ack");

    let sent = 0;
    for (; sent < 5; sent++) await get(port);
    // Live: a point per message (a few if a write was still pending), a point every interval.
    // Waited for, not slept for: a loaded machine delays the agent's sampling timer.
    await console_.waitFor(() => console_.stats().length > 5, "live stats");
    const live = console_.stats();
    expect(live.length).toBeGreaterThan(5);
    expect(live.every((m) => m.points.length <= 5)).toBe(true);

    // The console goes away; the agent comes back, but is not welcomed for a while.
    first.close(1012, "console restarting");
    // Frames the agent wrote before it saw the close still arrive until the close completes
    // (a loaded machine shows it): "nothing while not welcomed" counts from there.
    await console_.waitFor(() => console_.closes.length === 1, "the first connection's close");
    const closedAt = Date.now();
    await console_.waitFor(() => console_.sockets.length === 2, "reconnect");
    const second = console_.sockets[1]!;
    for (; sent < 12; sent++) await get(port);
    // Prometheus works in console mode too, from the same counters.
    const fams = parsePrometheus((await scrape(metricsPort)).body);
    expect(samples(fams, "fulcrum_listener_requests_total")[0]!.value).toBe(12);
    expect(samples(fams, "fulcrum_agent_info", { name: "edge-buf" })[0]!.value).toBe(1);
    await sleep(3600); // ~140 points at 25 ms: more than two full batches
    const beforeWelcome = Date.now();
    const sentWhileAway = console_.stats(closedAt);
    expect(sentWhileAway).toEqual([]);
    console_.welcome(second);
    await console_.waitFor(() => console_.stats(beforeWelcome).length > 2, "the replayed backlog");

    const replay = console_.stats(beforeWelcome);
    expect(replay.length).toBeGreaterThan(2);
    for (const m of console_.stats())
      expect(m.points.length).toBeLessThanOrEqual(MAX_STATS_POINTS_PER_MESSAGE);
    // The backlog comes first, in full batches.
    expect(replay[0]!.points).toHaveLength(MAX_STATS_POINTS_PER_MESSAGE);
    expect(replay[1]!.points).toHaveLength(MAX_STATS_POINTS_PER_MESSAGE);

    // Every point of the run arrives, oldest first, seq without gaps (a batch cut by the close may repeat).
    const all = console_.stats().flatMap((m) => m.points);
    const bySeq = new Map<number, StatsPoint>();
    let lastSeq = -1;
    for (const p of all) {
      if (bySeq.has(p.seq)) {
        expect(bySeq.get(p.seq)).toEqual(p);
        continue;
      }
      expect(p.seq).toBe(lastSeq + 1);
      lastSeq = p.seq;
      bySeq.set(p.seq, p);
    }
    expect(lastSeq).toBeGreaterThan(3000 / INTERVAL_MS / 2);

    // Buffered points keep the time they were sampled: before the welcome, spread over the outage.
    const buffered = replay.flatMap((m) => m.points).filter((p) => Date.parse(p.at) < beforeWelcome);
    expect(buffered.length).toBeGreaterThan(2 * MAX_STATS_POINTS_PER_MESSAGE);
    expect(Date.parse(buffered[0]!.at)).toBeLessThan(closedAt + 500);
    const times = [...bySeq.values()].map((p) => Date.parse(p.at));
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);

    // The deltas add up to the traffic, across the outage.
    const requests = [...bySeq.values()].reduce((n, p) => n + (p.listeners[`l-${port}`]?.requests ?? 0), 0);
    expect(requests).toBe(sent);
    // Backends are reported by snapshot id with their pool and status.
    const withBackend = [...bySeq.values()].find((p) => p.backends.a);
    expect(withBackend?.backends.a).toMatchObject({ poolId: "p1", status: "up" });
    expect(await agent.stop()).toBe(0);
  });

  it("keeps only the newest --stats-buffer points while the console is unreachable", async () => {
    const { console_, agent } = await startAgent("edge-small", ["--stats-buffer", "20"]);
    await console_.waitFor(() => console_.frames.some((r) => r.message.type === "hello"), "hello");
    await sleep(1500); // ~60 points, never welcomed
    const welcomedAt = Date.now();
    console_.welcome(console_.sockets[0]!);
    await console_.waitFor(() => console_.stats().length > 0, "stats");
    const firstBatch = console_.stats()[0]!.points;
    expect(firstBatch.length).toBe(20);
    const seqs = firstBatch.map((p) => p.seq);
    expect(seqs[0]!).toBeGreaterThan(20);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    expect(firstBatch.every((p) => Date.parse(p.at) <= welcomedAt)).toBe(true);
    await agent.waitFor(/stats points dropped while the console was unreachable dropped=\d+/);
  });
});
