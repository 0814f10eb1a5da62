import { type Snapshot, snapshotSchema } from "@fulcrum/protocol";
import { describe, expect, it } from "vitest";
import { findUnsupported } from "../src/engines/haproxy/validate";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";

/*
 * The HAProxy engine renders TLS listeners and the redirect to HTTPS
 * (test/haproxy/haproxy-tls.test.ts serves them): its validator no longer
 * names either, while the rest of a snapshot is still checked.
 */

const CERT = {
  id: "c1",
  fingerprint: "a".repeat(64),
  names: ["example.com"],
  notAfter: "2030-01-01T00:00:00Z",
};

function withListenerChange(good: Snapshot, change: Record<string, unknown>): Snapshot {
  const s = structuredClone(good) as unknown as Record<string, unknown> & {
    listeners: Record<string, unknown>[];
  };
  s.certificates = [CERT];
  Object.assign(s.listeners[0]!, change);
  return snapshotSchema.parse(s);
}

describe("TLS listeners on the HAProxy engine", () => {
  it("passes both TLS features through the capability table", () => {
    const good = makeSnapshot(1, [httpListener(8080)], [backend("a", 9000)]);
    const keys = (s: Snapshot) => findUnsupported(s).map((u) => u.key);
    const tls = { tls: { certificateIds: ["c1"], defaultCertificateId: "c1" } };
    expect(keys(withListenerChange(good, tls))).not.toContain("listener:tls");
    expect(keys(withListenerChange(good, tls))).toEqual(keys(good));
    const redirect = {
      settings: { ...good.listeners[0]!.settings, redirectToHttps: { status: 301, port: 443 } },
    };
    expect(keys(withListenerChange(good, redirect))).toEqual(keys(good));
  });
});
