import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Snapshot, TicketKeyRing } from "@fulcrum/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CtlBackend, startCtlBackend } from "./helpers/backends";
import { makeCertificate, type TestCertificate } from "./helpers/certs";
import { backend, httpListener, makeSnapshot, withListenerTls } from "./helpers/snapshot";
import { ring, rotated, startTlsNode, type TlsNode } from "./helpers/ticket-keys";
import { httpsGet, resumes, takeTicket } from "./helpers/tls-client";

/*
 * Session resumption across agents (issue 16): agents given the same
 * ticket-key ring by the console resume each other's tickets; agents with
 * different rings (other clusters) do not; a rotation pushed as a
 * `ticketKeys` message moves every agent to the new key without a snapshot;
 * a malformed ring is refused and changes nothing.
 */

let dir: string;
let a: CtlBackend;
let cert: TestCertificate;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fulcrum-ticket-keys-"));
  a = await startCtlBackend("a");
  cert = makeCertificate("site", ["example.com"]);
});
afterAll(async () => {
  await a.close();
  await rm(dir, { recursive: true, force: true });
});

const tlsSnapshot = (version: number, port: number): Snapshot =>
  withListenerTls(makeSnapshot(version, [httpListener(port)], [backend("a", a.port)]), cert);

/** A builtin agent of its own stand-in console, serving one TLS listener, keys from `keys`. */
const startNode = (name: string, keys: TicketKeyRing) =>
  startTlsNode({
    stateDir: join(dir, name),
    keys,
    snapshot: (port) => tlsSnapshot(1, port),
    material: [cert.material],
  });

describe("session tickets shared by the agents of a cluster (builtin engine)", () => {
  const clusterRing = ring(1);
  let nodeA: TlsNode;
  let nodeB: TlsNode;
  let other: TlsNode;
  beforeAll(async () => {
    [nodeA, nodeB, other] = await Promise.all([
      startNode("a", clusterRing),
      startNode("b", clusterRing),
      startNode("other", ring(1)),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([nodeA, nodeB, other].filter(Boolean).map((n) => n.stop()));
  });

  for (const maxVersion of ["TLSv1.3", "TLSv1.2"] as const) {
    it(`${maxVersion}: a ticket from agent A resumes on agent B of the same cluster, not on an agent of another cluster`, async () => {
      const ticket = await takeTicket(nodeA.port, "example.com", { maxVersion });
      expect(await resumes(nodeB.port, "example.com", ticket, { maxVersion })).toBe(true);
      expect(await resumes(nodeA.port, "example.com", ticket, { maxVersion })).toBe(true);
      expect(await resumes(other.port, "example.com", ticket, { maxVersion })).toBe(false);
    });
  }

  it("follows a rotation pushed without a snapshot; a malformed ring is refused and changes nothing", async () => {
    const before = await takeTicket(nodeA.port, "example.com");
    const second = rotated(clusterRing);
    for (const n of [nodeA, nodeB]) n.console_.ticketKeys(n.ws, second);
    await Promise.all([nodeA, nodeB].map((n) => n.agent.waitFor(/ticket keys in use.*generation=2\b/)));
    // New tickets work across both agents; no snapshot was sent, nothing more was acked.
    const after = await takeTicket(nodeB.port, "example.com");
    expect(await resumes(nodeA.port, "example.com", after)).toBe(true);
    // Node keeps one key: a ticket made with the previous key falls back to a full handshake.
    expect(await resumes(nodeA.port, "example.com", before)).toBe(false);
    for (const n of [nodeA, nodeB]) {
      expect(n.console_.frames.filter((f) => f.message.type === "ack")).toHaveLength(1);
    }

    // Hostile rings: too short a key, the same key twice, not an object. Each is answered with an error.
    const bad: unknown[] = [
      { ...rotated(second), current: randomBytes(32).toString("base64") },
      { ...rotated(second), next: second.next },
      "keys",
    ];
    for (const payload of bad) nodeA.console_.ticketKeys(nodeA.ws, payload);
    for (let i = 0; i < bad.length; i++) {
      const err = await nodeA.console_.next("error");
      expect((err.payload as { code: string }).code).toBe("invalid_message");
    }
    // Still the generation-2 key: tickets from B still resume on A, and A still serves.
    expect(await resumes(nodeA.port, "example.com", await takeTicket(nodeB.port, "example.com"))).toBe(true);
    expect((await httpsGet(nodeA.port, "example.com")).body).toBe("a");
  });
});
