import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Snapshot, snapshotSchema } from "@fulcrum/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HandshakeSnapshot } from "../../src/dataplane/stats/handshake-counters";
import { HaproxyEngine } from "../../src/engines/haproxy/haproxy-engine";
import { parseShowProc, runtimeCommand } from "../../src/engines/haproxy/runtime-api";
import { silentLogger } from "../../src/log";
import { AppliedSnapshots } from "../../src/metrics/applied-snapshots";
import { BackendStatusTracker } from "../../src/metrics/backend-status";
import { renderPrometheus } from "../../src/metrics/prometheus";
import { StatsSampler } from "../../src/metrics/sampler";
import { until } from "../helpers/backends";
import { makeCertificate } from "../helpers/certs";
import { freePort } from "../helpers/net";
import { handshake, resumes, takeTicket } from "../helpers/tls-client";
import { BIN, be, http, pool, snap } from "./fixtures";

/*
 * The HAProxy engine's TLS handshake counters (issue 16), read from the ssl
 * stats module's `ssl_sess`, `ssl_reused_sess` and `ssl_failed_handshake` on
 * the frontend's `show stat` row, through a real HAProxy and node:tls clients:
 * full handshakes, a resumed one (session ticket), failures (an unknown SNI
 * name with reject, a TLS 1.2 client below minVersion TLSv1.3) all counted,
 * and kept across a reload (a new worker starts its counters at 0).
 */

const cert = makeCertificate("exact", ["www.example.com"]);

/** A TLS listener "web" (reject unknown names, TLS 1.3 only) and a plain one "plain"; `hsts` changes the config (a reload). */
function snapshot(version: number, tlsPort: number, plainPort: number, hsts = false): Snapshot {
  const base = snap(
    version,
    [http("web", tlsPort, "p1"), http("plain", plainPort, "p1")],
    [pool("p1", [be("a", 9)])],
  );
  const s = structuredClone(base) as unknown as Record<string, unknown> & {
    listeners: Record<string, unknown>[];
  };
  s.certificates = [cert.ref];
  s.listeners[0]!.tls = {
    certificateIds: [cert.ref.id],
    defaultCertificateId: cert.ref.id,
    unknownName: "reject",
    minVersion: "TLSv1.3",
    ...(hsts ? { hsts: { maxAgeSeconds: 60 } } : {}),
  };
  return snapshotSchema.parse(s);
}

let dir: string;
let haproxy: HaproxyEngine;
let port: number;
let plainPort: number;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "haproxy-handshakes-"));
  haproxy = new HaproxyEngine({ log: silentLogger, stateDir: dir, bin: BIN, statsIntervalMs: 100 });
  port = await freePort();
  plainPort = await freePort();
});
afterEach(async () => {
  await haproxy.stop();
  await rm(dir, { recursive: true, force: true });
});

async function reloads(): Promise<number> {
  const p = parseShowProc(await runtimeCommand(haproxy.files.masterSocket, "show proc"));
  if (!p) throw new Error("no show proc answer");
  return p.reloads;
}

/** The "web" listener's counters once `ended` handshakes have ended either way (HAProxy counts after the client). */
async function countersAfter(ended: number): Promise<HandshakeSnapshot | undefined> {
  const read = () => haproxy.stats().listeners.web?.tls;
  const total = (t: HandshakeSnapshot | undefined) =>
    t ? t.handshakes + Object.values(t.failures).reduce((a, b) => a + b, 0) : 0;
  await until(() => total(read()) >= ended, 5000);
  return read();
}

describe("TLS handshake counters on HAProxy", () => {
  it("counts full, resumed and failed handshakes per listener, in stats, Prometheus and the stats point", async () => {
    await haproxy.apply(snapshot(1, port, plainPort), [cert.material]);
    const sampler = new StatsSampler({
      engine: haproxy,
      snapshots: new AppliedSnapshots(),
      status: new BackendStatusTracker(),
      keyframeEvery: 1000,
    });

    await handshake(port, "www.example.com");
    await handshake(port, "www.example.com");
    const ticket = await takeTicket(port, "www.example.com");
    expect(await resumes(port, "www.example.com", ticket)).toBe(true);
    await expect(handshake(port, "other.test")).rejects.toThrow();
    await expect(handshake(port, "www.example.com", { maxVersion: "TLSv1.2" })).rejects.toThrow();

    // 3 full + 1 resumed; HAProxy gives failures no reason: both are "other".
    expect(await countersAfter(6)).toEqual({
      handshakes: 4,
      resumed: 1,
      failures: { noSharedCipher: 0, protocolVersion: 0, unknownName: 0, other: 2 },
    });
    // A plain listener has no TLS counters.
    expect(haproxy.stats().listeners.plain).toBeDefined();
    expect(haproxy.stats().listeners.plain?.tls).toBeUndefined();

    const text = renderPrometheus({
      stats: haproxy.stats(),
      snapshot: undefined,
      status: new BackendStatusTracker(),
      agent: { name: "a", version: "0" },
    });
    expect(text).toContain('fulcrum_tls_handshakes_total{listener="web",resumed="false"} 3');
    expect(text).toContain('fulcrum_tls_handshakes_total{listener="web",resumed="true"} 1');
    expect(text).toContain('fulcrum_tls_handshake_failures_total{listener="web",reason="other"} 2');
    expect(sampler.sample()?.listeners.web?.tls).toEqual({
      handshakes: 4,
      resumed: 1,
      failedNoSharedCipher: 0,
      failedProtocolVersion: 0,
      failedUnknownName: 0,
      failedOther: 2,
    });

    // A reload starts a new worker whose counters begin at 0: the totals keep what the old one counted.
    const before = await reloads();
    await haproxy.apply(snapshot(2, port, plainPort, true), [cert.material]);
    expect(await reloads()).toBe(before + 1);
    await handshake(port, "www.example.com");
    expect(await countersAfter(7)).toMatchObject({ handshakes: 5, resumed: 1, failures: { other: 2 } });
    expect(sampler.sample()?.listeners.web?.tls).toMatchObject({ handshakes: 1, resumed: 0, failedOther: 0 });
  });
});
