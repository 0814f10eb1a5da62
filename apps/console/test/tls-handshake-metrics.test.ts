import { parsePrometheus } from "@fulcrum/agent/testing/prometheus";
import { resumes, takeTicket } from "@fulcrum/agent/testing/tls-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SeriesPoint } from "../src/server/metrics/aggregate";
import { waitFor } from "./support/console";
import { type Stack, startStack } from "./support/stack";
import { TestPki } from "./test-pki";

const sum = (points: SeriesPoint[], value: (p: SeriesPoint) => number) =>
  points.reduce((n, p) => n + value(p), 0);

/**
 * A real agent's TLS handshake counters reach the console: the listener's
 * series (handshakes/s, resumed %, failures by reason) and /metrics (per
 * listener and per node).
 */
describe("TLS handshake statistics from a real agent", () => {
  let stack: Stack;
  let pki: TestPki;
  let port: number;
  let listenerId: string;

  beforeAll(async () => {
    pki = new TestPki();
    const leaf = pki.issue({ cn: "example.com", dns: ["example.com"] });
    stack = await startStack({ cluster: "tls-stats", backends: ["alpha"] });
    const cert = await stack.operator.certificate.upload({
      clusterId: stack.clusterId,
      name: "example",
      chainPem: leaf.certPem,
      keyPem: leaf.keyPem,
    });
    ({ listenerId, listenerPort: port } = await stack.webPool({
      listener: "https-front",
      listenerSettings: {
        tls: { certificateIds: [cert.id], defaultCertificateId: cert.id, unknownName: "reject" },
      },
      pool: "web",
    }));
    await stack.enroll("edge-tls-1");
  });
  afterAll(async () => {
    await stack?.close();
    pki?.close();
  });

  it("counts full, resumed and rejected handshakes in the listener's series and in /metrics", async () => {
    // The first successful handshake is also the wait for the agent to serve (refused connections count nothing).
    // takeTicket's handshakes are full ones (it offers no session); resumes offers one.
    const ticket = await waitFor("the agent to serve TLS", () =>
      takeTicket(port, "example.com").catch(() => undefined),
    );
    await takeTicket(port, "example.com");
    expect(await resumes(port, "example.com", ticket)).toBe(true);
    await expect(takeTicket(port, "unknown.invalid")).rejects.toThrow();
    await expect(takeTicket(port, "other.invalid")).rejects.toThrow();

    const { viewer, clusterId } = stack;
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

    const text = await (await fetch(`${stack.console.url}/metrics`)).text();
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
    const hour = await stack.viewer.metrics.series({
      clusterId: stack.clusterId,
      scope: "listener",
      id: listenerId,
      range: "1h",
    });
    // Minute steps: a rate over the step's seconds so far; times those seconds gives the count back.
    const now = Date.now();
    const counted = sum(hour.points, (p) => p.tlsHandshakes * (Math.min(60_000, now - p.t) / 1000));
    expect(counted).toBeGreaterThan(2.5);
    expect(hour.points.some((p) => p.tlsResumedPercent !== null && p.tlsResumedPercent > 0)).toBe(true);
  });
});
