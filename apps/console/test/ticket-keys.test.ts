import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type AgentProcess, spawnAgent } from "@fulcrum/agent/testing";
import { resumes, takeTicket } from "@fulcrum/agent/testing/tls-client";
import type { ConsoleMessage, Snapshot, TicketKeyRing } from "@fulcrum/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTlsMaterial } from "../src/server/domain/certificates/material";
import { rotateDueTicketKeys } from "../src/server/domain/ticket-keys/ring-store";
import {
  actors,
  callerAs,
  enrollAgent,
  freePort,
  startTestConsole,
  type TestConsole,
  waitFor,
} from "./support/console";
import { connectFakeAgent, type FakeAgent } from "./support/fake-agent";
import { type Issued, TestPki } from "./test-pki";

/*
 * The console's side of cluster-shared session-ticket keys (issue 16): one
 * ring per cluster, sent to its agents after the welcome and at each rotation,
 * never in a snapshot, a config version or an API answer; a rotation is
 * audited, makes no config version, and happens once when two consoles share
 * the database. Agent A is a real agent of the cluster; agent B, also real,
 * serves the same listener on another port from a --config file holding the
 * ring the console sent to the cluster (one machine cannot bind one port
 * twice), so a ticket from A resuming on B proves A uses the console's ring.
 */

const ringsOf = (f: FakeAgent) =>
  f.received
    .filter((m): m is Extract<ConsoleMessage, { type: "ticketKeys" }> => m.type === "ticketKeys")
    .map((m) => m.payload);

describe("ticket keys from the console", () => {
  let pki: TestPki;
  let leaf: Issued;
  let c: TestConsole;
  let dir: string;
  let clusterId: string;
  let otherCluster: string;
  let portA: number;
  let portOther: number;
  const agents: AgentProcess[] = [];
  let fake: FakeAgent;
  let fakeOther: FakeAgent;

  /** A cluster with one TLS listener on `port` serving `leaf`. */
  async function tlsCluster(name: string, port: number): Promise<string> {
    const op = callerAs(c, actors.operator);
    const id = (await op.cluster.create({ name })).id;
    const cert = await op.certificate.upload({
      clusterId: id,
      name: "site",
      chainPem: leaf.certPem,
      keyPem: leaf.keyPem,
    });
    const poolId = (await op.pool.create({ clusterId: id, name: "web" })).id;
    await op.backend.create({ poolId, address: "127.0.0.1", port: 9 });
    const listener = await op.listener.create({
      clusterId: id,
      name: "https",
      bindAddress: "127.0.0.1",
      port,
      tls: { certificateIds: [cert.id], defaultCertificateId: cert.id },
    });
    await op.route.create({ listenerId: listener.id, poolId });
    return id;
  }

  const versions = () => c.services.prisma.configVersion.count({ where: { clusterId } });

  /** Agent B: the cluster's snapshot on its own port, with the ring `keys`, from a --config file. */
  async function startAgentB(keys: TicketKeyRing): Promise<{ port: number; file: string }> {
    const latest = await c.services.prisma.configVersion.findFirst({
      where: { clusterId },
      orderBy: { version: "desc" },
    });
    const snapshot = structuredClone(latest!.snapshot) as unknown as Snapshot;
    const port = await freePort();
    snapshot.listeners[0]!.port = port;
    const tlsMaterial = await loadTlsMaterial(c.services.prisma, c.services.keys, snapshot);
    const file = path.join(dir, "agent-b.json");
    writeFileSync(file, JSON.stringify({ snapshot, tlsMaterial, ticketKeys: keys }), { mode: 0o600 });
    const b = spawnAgent(["--config", file]);
    agents.push(b);
    await b.waitFor(/applied snapshot/);
    return { port, file };
  }

  beforeAll(async () => {
    pki = new TestPki();
    leaf = pki.issue({ cn: "example.com", dns: ["example.com"] });
    dir = mkdtempSync(path.join(os.tmpdir(), "fulcrum-console-ticket-keys-"));
    c = await startTestConsole();
    portA = await freePort();
    portOther = await freePort();
    clusterId = await tlsCluster("edge", portA);
    otherCluster = await tlsCluster("other", portOther);
    const a = await enrollAgent(c, clusterId, "edge-a");
    const o = await enrollAgent(c, otherCluster, "other-a");
    agents.push(a.agent, o.agent);
    await Promise.all([a, o].map((x) => x.agent.waitFor(/ticket keys in use generation=1\b/, 30_000)));
    fake = await connectFakeAgent(c, clusterId, "edge-fake", ["tls-ticket-keys"]);
    fakeOther = await connectFakeAgent(c, otherCluster, "other-fake", ["tls-ticket-keys"]);
  }, 90_000);
  afterAll(async () => {
    await fake?.close();
    await fakeOther?.close();
    for (const a of agents) await a.stop();
    await c?.stop();
    pki?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends each cluster its own ring before the snapshot, only to agents that ask for it", async () => {
    const types = fake.received.map((m) => m.type);
    expect(types.indexOf("ticketKeys")).toBeGreaterThan(types.indexOf("welcome"));
    expect(types.indexOf("ticketKeys")).toBeLessThan(types.indexOf("snapshot"));
    const [mine] = ringsOf(fake);
    const [theirs] = ringsOf(fakeOther);
    expect(mine!.generation).toBe(1);
    expect(theirs!.current).not.toBe(mine!.current);
    const old = await connectFakeAgent(c, clusterId, "edge-old");
    expect(old.received.map((m) => m.type)).not.toContain("ticketKeys");
    await old.close();
  });

  it("a ticket from agent A resumes on agent B of the same cluster, not on the other cluster's agent", async () => {
    const b = await startAgentB(ringsOf(fake)[0]!);
    const ticket = await takeTicket(portA, "example.com");
    expect(await resumes(b.port, "example.com", ticket)).toBe(true);
    expect(await resumes(portOther, "example.com", ticket)).toBe(false);
  });

  it("rotates on schedule: pushed to the cluster's agents, audited, no config version, no key in any API or row", async () => {
    const before = await versions();
    const first = ringsOf(fake)[0]!;
    const rotated = await c.services.ticketKeys.tick(new Date(Date.now() + 13 * 3_600_000));
    expect(rotated.sort()).toEqual([clusterId, otherCluster].sort());
    await waitFor("the rotated ring to reach the agent", async () =>
      ringsOf(fake).length >= 2 ? true : undefined,
    );
    const second = ringsOf(fake).at(-1)!;
    expect(second).toMatchObject({ generation: 2, previous: first.current, current: first.next });
    await agents[0]!.waitFor(/ticket keys in use generation=2\b/);
    expect(await versions()).toBe(before);

    // A second agent B given the new ring: new tickets from A resume on it.
    const b = await startAgentB(second);
    const ticket = await takeTicket(portA, "example.com");
    expect(await resumes(b.port, "example.com", ticket)).toBe(true);

    const audit = await c.services.prisma.auditEntry.findMany({
      where: { action: { startsWith: "ticketKeys." }, clusterId },
      orderBy: { createdAt: "asc" },
    });
    expect(audit.map((e) => e.action)).toEqual(["ticketKeys.create", "ticketKeys.rotate"]);

    const state = await callerAs(c, actors.viewer).certificate.ticketKeys({ clusterId });
    expect(state.ring?.generation).toBe(2);
    expect(state.ring!.nextRotationAt.getTime()).toBeGreaterThan(state.ring!.rotatedAt.getTime());
    const everywhere = JSON.stringify([
      state,
      await c.services.prisma.ticketKeyRing.findMany(),
      await c.services.prisma.auditEntry.findMany(),
      await c.services.prisma.configVersion.findMany(),
    ]);
    for (const k of [second.previous, second.current, second.next]) {
      expect(everywhere).not.toContain(k);
      expect(everywhere).not.toContain(Buffer.from(k, "base64").toString("hex"));
    }
  });

  it("two consoles on one database rotate a due ring once", async () => {
    const row = await c.services.prisma.ticketKeyRing.findUniqueOrThrow({ where: { clusterId } });
    const base = { prisma: c.services.prisma, keys: c.services.keys, rotationMs: 3_600_000 };
    const later = new Date(Date.now() + 48 * 3_600_000);
    const [one, two] = await Promise.all([
      rotateDueTicketKeys({ ...base, origin: "console-1" }, later),
      rotateDueTicketKeys({ ...base, origin: "console-2" }, later),
    ]);
    expect([...one, ...two].filter((id) => id === clusterId)).toHaveLength(1);
    const after = await c.services.prisma.ticketKeyRing.findUniqueOrThrow({ where: { clusterId } });
    expect(after.generation).toBe(row.generation + 1);
  });
});
