import { createHash } from "node:crypto";
import { decodeConsoleMessage, missingCaBundles, missingTlsMaterial, type Snapshot } from "@fulcrum/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCaBundles } from "../src/server/domain/certificates/ca-bundles";
import { loadTlsMaterial } from "../src/server/domain/certificates/material";
import { SnapshotFrames } from "../src/server/gateway/snapshot-frames";
import { actors, callerAs, failure, startTestConsole, type TestConsole } from "./support/console";
import { type Issued, TestPki } from "./test-pki";

/*
 * TLS to backends in the console (issue 16): Trusted CAs on the Certificates
 * page's API, a pool's TLS settings through the topology API, and what the
 * snapshot (by reference) and the agents' frame (the PEM and the client key
 * beside it) carry.
 */

let pki: TestPki;
let client: Issued;
beforeAll(() => {
  pki = new TestPki();
  client = pki.issue({ cn: "fulcrum-agent", dns: ["agent.internal"] });
});
afterAll(() => pki?.close());

describe("trusted CAs and pool TLS through the API", () => {
  let c: TestConsole;
  let op: ReturnType<typeof callerAs>;
  let viewer: ReturnType<typeof callerAs>;
  let clusterId: string;
  let poolId: string;

  beforeAll(async () => {
    c = await startTestConsole();
    op = callerAs(c, actors.operator);
    viewer = callerAs(c, actors.viewer);
    clusterId = (await op.cluster.create({ name: "backend-tls" })).id;
    poolId = (await op.pool.create({ clusterId, name: "api" })).id;
    await op.backend.create({ poolId, address: "backend.internal", port: 8443 });
    const l = await op.listener.create({ clusterId, name: "web", port: 8080 });
    await op.route.create({ listenerId: l.id, poolId });
  });
  afterAll(async () => {
    await c?.stop();
  });

  const latest = async () =>
    (await c.services.prisma.configVersion.findFirst({ where: { clusterId }, orderBy: { version: "desc" } }))
      ?.snapshot as unknown as Snapshot;

  it("uploads a CA bundle in the protocol's PEM, fingerprinted and audited, without a new config version", async () => {
    const before = await c.services.prisma.configVersion.count({ where: { clusterId } });
    const crlf = `subject=CN = Root\r\n${pki.root.certPem.replaceAll("\n", "\r\n")}`;
    const up = await op.certificate.caUpload({ clusterId, name: "internal-root", pem: crlf });
    expect(up.pem).toBe(pki.root.certPem.replace(/\n?$/, "\n"));
    expect(up.fingerprint).toBe(createHash("sha256").update(up.pem).digest("hex"));
    expect(up.subjects).toHaveLength(1);
    expect((await viewer.certificate.caList({ clusterId })).map((b) => b.name)).toEqual(["internal-root"]);
    expect(await c.services.prisma.configVersion.count({ where: { clusterId } })).toBe(before);
    const audit = await c.services.prisma.auditEntry.findMany({ where: { targetId: up.id } });
    expect(audit.map((a) => a.action)).toEqual(["certificate.ca_upload"]);
    expect(JSON.stringify(audit)).toContain(up.fingerprint);
    expect(JSON.stringify(audit)).not.toContain("BEGIN CERTIFICATE");
  });

  it("refuses a bundle holding a key, garbage or an expired certificate, with the pem field named", async () => {
    for (const pem of [
      client.keyPem,
      "not pem at all",
      pki.issue({
        cn: "old",
        notBefore: new Date(Date.now() - 3 * 86_400_000),
        notAfter: new Date(Date.now() - 86_400_000),
      }).certPem,
    ]) {
      const f = await failure(op.certificate.caUpload({ clusterId, name: "bad", pem }));
      expect(Object.keys(f.fieldErrors), pem.slice(0, 30)).toEqual(["pem"]);
    }
    expect(
      await failure(viewer.certificate.caUpload({ clusterId, name: "v", pem: pki.root.certPem })),
    ).toMatchObject({
      code: "FORBIDDEN",
    });
  });

  it("a pool's TLS goes into the snapshot by reference; the agents' frame carries the bundle PEM and the client key beside it", async () => {
    const [bundle] = await op.certificate.caList({ clusterId });
    const cert = await op.certificate.upload({
      clusterId,
      name: "agent-client",
      chainPem: client.certPem,
      keyPem: client.keyPem,
    });
    const tls = {
      verify: "ca" as const,
      caBundleId: bundle!.id,
      sni: "fixed" as const,
      sniName: "backend.internal",
      clientCertificateId: cert.id,
      minVersion: "TLSv1.3" as const,
    };
    await op.pool.update({ id: poolId, tls });
    const snap = await latest();
    expect(snap.pools[0]!.tls).toEqual(tls);
    expect(snap.caBundles).toEqual([{ id: bundle!.id, fingerprint: bundle!.fingerprint }]);
    expect(snap.certificates.map((x) => x.id)).toEqual([cert.id]);
    expect(JSON.stringify(snap)).not.toContain("BEGIN");

    const frames = new SnapshotFrames(
      async () => snap,
      (s) => loadTlsMaterial(c.services.prisma, c.services.keys, s),
      (s) => loadCaBundles(c.services.prisma, s.caBundles),
    );
    const decoded = decodeConsoleMessage((await frames.get(clusterId)).frame);
    if (!decoded.ok || decoded.message.type !== "snapshot") throw new Error("not a snapshot frame");
    const { caBundles = [], tlsMaterial = [] } = decoded.message.payload;
    expect(caBundles.map((b) => b.pem)).toEqual([bundle!.pem]);
    expect(missingCaBundles(decoded.message.payload.snapshot, caBundles)).toEqual([]);
    expect(missingTlsMaterial(decoded.message.payload.snapshot, tlsMaterial)).toEqual([]);

    const uses = (await viewer.certificate.caList({ clusterId }))[0]!.usedBy;
    expect(uses).toEqual([{ poolId, poolName: "api" }]);
  });

  it("refuses deleting a bundle a pool uses, a hostile SNI name and a bundle that does not exist, changing nothing", async () => {
    const [bundle] = await op.certificate.caList({ clusterId });
    const del = await failure(op.certificate.caDelete({ id: bundle!.id }));
    expect(del.code).toBe("CONFLICT");
    expect(del.message).toMatch(/used by pool api/);
    const before = await latest();
    const sni = await failure(
      op.pool.update({ id: poolId, tls: { sni: "fixed", sniName: "x) crt /etc/shadow" } as never }),
    );
    expect(Object.keys(sni.fieldErrors)).toContain("tls.sniName");
    const missing = await failure(
      op.pool.update({ id: poolId, tls: { verify: "ca", caBundleId: "no-such-bundle" } as never }),
    );
    expect(missing.message).toMatch(/CA bundle no-such-bundle, which is not in the snapshot/);
    expect((await latest()).version).toBe(before.version);
  });

  it("plain TLS off again: the pool leaves TLS, the bundle can go, and the snapshot lists no bundle", async () => {
    await op.pool.update({ id: poolId, tls: null });
    const [bundle] = await op.certificate.caList({ clusterId });
    await op.certificate.caDelete({ id: bundle!.id });
    const snap = await latest();
    expect(snap.pools[0]!.tls).toBeUndefined();
    expect(snap.caBundles).toEqual([]);
  });
});
