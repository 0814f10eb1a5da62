import { type Snapshot, snapshotSchema } from "@fulcrum/protocol";
import { describe, expect, it } from "vitest";
import { findUnsupported } from "../src/engines/haproxy/validate";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";

/*
 * The HAProxy engine does not render TLS yet (issue 16's `bind … ssl
 * crt-list` step): a snapshot with a TLS listener (or a redirect to HTTPS) is
 * refused through the capability table, never served as plain HTTP.
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
  it("finds both TLS features in the capability table", () => {
    const good = makeSnapshot(1, [httpListener(8080)], [backend("a", 9000)]);
    const keys = (s: Snapshot) => findUnsupported(s).map((u) => u.key);
    const tls = { tls: { certificateIds: ["c1"], defaultCertificateId: "c1" } };
    expect(keys(withListenerChange(good, tls))).toContain("listener:tls");
    expect(keys(good)).not.toContain("listener:tls");
    const redirect = {
      settings: { ...good.listeners[0]!.settings, redirectToHttps: { status: 301, port: 443 } },
    };
    expect(keys(withListenerChange(good, redirect))).toContain("listener:redirect_to_https");
  });
});
