import { type Snapshot, snapshotSchema } from "@fulcrum/protocol";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { NodeEngine } from "../src/engines/builtin/node-engine";
import { findUnsupported } from "../src/engines/haproxy/validate";
import { createLogger } from "../src/log";
import { type CtlBackend, startCtlBackend } from "./helpers/backends";
import { freePort, get } from "./helpers/net";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";

/*
 * Until issue 16's agent work lands, a snapshot with a TLS listener (or a
 * redirect to HTTPS) is refused by both engines through the capability table:
 * serving such a listener as plain HTTP would hand clients their traffic in clear.
 */

const CERT = {
  id: "c1",
  fingerprint: "a".repeat(64),
  names: ["example.com"],
  notAfter: "2030-01-01T00:00:00Z",
};

function withListenerChange(good: Snapshot, version: number, change: Record<string, unknown>): Snapshot {
  const s = structuredClone(good) as unknown as Record<string, unknown> & {
    listeners: Record<string, unknown>[];
  };
  s.version = version;
  s.certificates = [CERT];
  Object.assign(s.listeners[0]!, change);
  return snapshotSchema.parse(s);
}
const TLS = { tls: { certificateIds: ["c1"], defaultCertificateId: "c1" } };

let a: CtlBackend;
beforeAll(async () => {
  a = await startCtlBackend("a");
});
afterAll(() => a.close());

describe("TLS listeners before the agent serves TLS", () => {
  let engine: NodeEngine;
  let port: number;
  let good: Snapshot;
  beforeEach(async () => {
    engine = new NodeEngine({ log: createLogger("error"), timeouts: { drainGraceMs: 100 } });
    port = await freePort();
    good = makeSnapshot(1, [httpListener(port)], [backend("a", a.port)]);
    await engine.apply(good);
  });
  afterEach(() => engine.stop());

  it("the builtin engine refuses a TLS listener with the table's reason and keeps serving the previous config", async () => {
    await expect(engine.apply(withListenerChange(good, 2, TLS))).rejects.toMatchObject({
      code: "snapshot_invalid",
      message: `listener http-${port}: listener:tls is not supported: TLS termination lands with issue 16's agent work`,
    });
    expect(engine.applied?.version).toBe(1);
    expect((await get(port)).body).toBe("a");
  });

  it("the builtin engine refuses a redirect to HTTPS rather than ignoring it", async () => {
    const redirect = {
      settings: { ...good.listeners[0]!.settings, redirectToHttps: { status: 308, port: 443 } },
    };
    await expect(engine.apply(withListenerChange(good, 2, redirect))).rejects.toMatchObject({
      code: "snapshot_invalid",
      message: expect.stringContaining("listener:redirect_to_https is not supported"),
    });
  });

  it("the HAProxy engine finds both in the same table", () => {
    const keys = (s: Snapshot) => findUnsupported(s).map((u) => u.key);
    expect(keys(withListenerChange(good, 2, TLS))).toContain("listener:tls");
    expect(keys(good)).not.toContain("listener:tls");
    const redirect = {
      settings: { ...good.listeners[0]!.settings, redirectToHttps: { status: 301, port: 443 } },
    };
    expect(keys(withListenerChange(good, 2, redirect))).toContain("listener:redirect_to_https");
  });
});
