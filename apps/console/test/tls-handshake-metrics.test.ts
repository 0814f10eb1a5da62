import { connect } from "node:tls";
import type { AgentProcess } from "@fulcrum/agent/testing";
import { parsePrometheus } from "@fulcrum/agent/testing/prometheus";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SeriesPoint } from "../src/server/metrics/aggregate";
import { startNamedBackend } from "./support/backends";
import {
  actors,
  callerAs,
  enrollAgent,
  freePort,
  startTestConsole,
  type TestConsole,
  waitFor,
} from "./support/console";
import { TestPki } from "./test-pki";

/**
 * One TLS handshake to 127.0.0.1 with SNI `servername`, offering `session`
 * when given. Resolves with whether the session was resumed and the ticket
 * the listener sent (TLS 1.3 sends it after the handshake, so a first
 * connection waits for it); rejects when the handshake fails.
 */
function handshake(
  port: number,
  servername: string,
  session?: Buffer,
): Promise<{ reused: boolean; ticket: Buffer | undefined }> {
  return new Promise((resolve, reject) => {
    const s = connect({
      host: "127.0.0.1",
      port,
      servername,
      rejectUnauthorized: false,
      ...(session ? { session } : {}),
    });
    let ticket: Buffer | undefined;
    s.on("session", (t: Buffer) => {
      ticket ??= t;
    });
    s.once("secureConnect", () => {
      const reused = s.isSessionReused();
      // end(), not destroy(): TLS 1.3's client Finished must reach the listener for its handshake to count.
      const done = () => {
        s.end();
        resolve({ reused, ticket });
      };
      if (ticket || session) done();
      else s.once("session", done);
    });
    s.once("error", reject);
    s.setTimeout(5000, () => s.destroy(new Error("handshake timed out")));
    s.resume();
  });
}

const sum = (points: SeriesPoint[], value: (p: SeriesPoint) => number) =>
  points.reduce((n, p) => n + value(p), 0);

/**
 * A real agent's TLS handshake counters reach the console: the listener's
 * series (handshakes/s, resumed %, failures by reason) and /metrics (per
 * listener and per node).
 */
describe("TLS handshake statistics from a real agent", () => {
  let c: TestConsole;
  let agent: AgentProcess;
  let pki: TestPki;
  let backend: Awaited<ReturnType<typeof startNamedBackend>>;
  let port: number;
  let clusterId: string;
  let listenerId: string;

  beforeAll(async () => {
    pki = new TestPki();
    const leaf = pki.issue({ cn: "example.com", dns: ["example.com"] });
    c = await startTestConsole();
    backend = await startNamedBackend("alpha");
    const op = callerAs(c, actors.operator);
    clusterId = (await op.cluster.create({ name: "tls-stats" })).id;
    const cert = await op.certificate.upload({
      clusterId,
      name: "example",
      chainPem: leaf.certPem,
      keyPem: leaf.keyPem,
    });
    const pool = await op.pool.create({ clusterId, name: "web" });
    await op.backend.create({ poolId: pool.id, address: "127.0.0.1", port: backend.port });
    port = await freePort();
    listenerId = (
      await op.listener.create({
        clusterId,
        name: "https-front",
        bindAddress: "127.0.0.1",
        port,
        tls: { certificateIds: [cert.id], defaultCertificateId: cert.id, unknownName: "reject" },
      })
    ).id;
    await op.route.create({ listenerId, poolId: pool.id });
    ({ agent } = await enrollAgent(c, clusterId, "edge-tls-1"));
  });
  afterAll(async () => {
    await agent?.stop();
    await c?.stop();
    await backend?.close();
    pki?.close();
  });

  it("counts full, resumed and rejected handshakes in the listener's series and in /metrics", async () => {
    // The first successful handshake is also the wait for the agent to serve (refused connections count nothing).
    const first = await waitFor("the agent to serve TLS", () =>
      handshake(port, "example.com").catch(() => undefined),
    );
    expect(first.reused).toBe(false);
    expect((await handshake(port, "example.com")).reused).toBe(false);
    expect((await handshake(port, "example.com", first.ticket)).reused).toBe(true);
    await expect(handshake(port, "unknown.invalid")).rejects.toThrow();
    await expect(handshake(port, "other.invalid")).rejects.toThrow();

    const viewer = callerAs(c, actors.viewer);
    const points = await waitFor("the handshakes in the listener's series", async () => {
      const s = await viewer.metrics.series({ clusterId, scope: "listener", id: listenerId, range: "5m" });
      const failed = sum(s.points, (p) => p.tlsFailedUnknownName);
      return sum(s.points, (p) => p.tlsHandshakes) > 2.9 && failed > 1.9 ? s.points : undefined;
    });
    // 1 s steps: the per-second rates add up to the counts.
    expect(sum(points, (p) => p.tlsHandshakes)).toBeCloseTo(3, 2);
    expect(sum(points, (p) => (p.tlsHandshakes * (p.tlsResumedPercent ?? 0)) / 100)).toBeCloseTo(1, 2);
    expect(sum(points, (p) => p.tlsFailedUnknownName)).toBeCloseTo(2, 2);
    expect(
      sum(points, (p) => p.tlsFailedNoSharedCipher + p.tlsFailedProtocolVersion + p.tlsFailedOther),
    ).toBe(0);
    // A second without handshakes has no resumed share (null, not 0 %); one with handshakes has one.
    for (const p of points) {
      if (p.tlsHandshakes > 0) expect(p.tlsResumedPercent).not.toBeNull();
      if (p.tlsResumedPercent === null) expect(p.tlsHandshakes).toBe(0);
    }

    const text = await (await fetch(`${c.url}/metrics`)).text();
    const families = parsePrometheus(text);
    const labels = { cluster: "tls-stats", listener: "https-front", agent: "edge-tls-1" };
    const value = (family: string, extra: Record<string, string>) =>
      families
        .get(family)
        ?.samples.find((s) => Object.entries({ ...labels, ...extra }).every(([k, v]) => s.labels[k] === v))
        ?.value;
    expect(families.get("fulcrum_listener_tls_handshakes_total")?.type).toBe("counter");
    expect(value("fulcrum_listener_tls_handshakes_total", { resumed: "false" })).toBe(2);
    expect(value("fulcrum_listener_tls_handshakes_total", { resumed: "true" })).toBe(1);
    expect(value("fulcrum_listener_tls_handshake_failures_total", { reason: "unknown_name" })).toBe(2);
    expect(value("fulcrum_listener_tls_handshake_failures_total", { reason: "no_shared_cipher" })).toBe(0);
  });

  it("keeps the handshakes in the minute rollups (1 h range)", async () => {
    const viewer = callerAs(c, actors.viewer);
    const hour = await viewer.metrics.series({ clusterId, scope: "listener", id: listenerId, range: "1h" });
    // Minute steps: a rate over the step's seconds so far; times those seconds gives the count back.
    const now = Date.now();
    const counted = sum(hour.points, (p) => p.tlsHandshakes * (Math.min(60_000, now - p.t) / 1000));
    expect(counted).toBeGreaterThan(2.5);
    expect(hour.points.some((p) => p.tlsResumedPercent !== null && p.tlsResumedPercent > 0)).toBe(true);
  });
});
