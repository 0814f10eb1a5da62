import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AcmeCertificateGoneError } from "../src/server/domain/acme/errors";
import { type AcmeTarget, storeIssuedCertificate } from "../src/server/domain/acme/store";
import { actors, callerAs, startTestConsole, type TestConsole } from "./support/console";
import { TestPki } from "./test-pki";

/*
 * Deleting an ACME-issued certificate, or its ACME entry, on a real console
 * (PGlite). The issued certificate is stored through storeIssuedCertificate,
 * the very function the scheduler calls after Pebble or Let's Encrypt answer,
 * with a chain from the test PKI; acme-pebble.test.ts covers the CA side.
 */

describe("deleting ACME certificates and their entries", () => {
  let c: TestConsole;
  let pki: TestPki;
  let clusterId: string;
  let n = 0;

  beforeAll(async () => {
    c = await startTestConsole();
    pki = new TestPki();
    clusterId = (await callerAs(c, actors.operator).cluster.create({ name: "acme-delete" })).id;
  });
  afterAll(async () => {
    await c?.stop();
    pki?.close();
  });

  /** An ACME entry whose certificate was issued: what the scheduler leaves after a first issuance. */
  async function issuedEntry(inCluster = clusterId): Promise<AcmeTarget & { certificateId: string }> {
    const host = `a${++n}.example.test`;
    const row = await callerAs(c, actors.operator).certificate.acmeCreate({
      clusterId: inCluster,
      name: `auto-${n}`,
      names: [host],
    });
    const leaf = pki.issue({ cn: host, dns: [host] });
    const target: AcmeTarget = { ...row, certificateId: null };
    const stored = await storeIssuedCertificate(c.services, target, leaf.certPem, leaf.keyPem);
    await c.services.prisma.acmeCertificate.update({
      where: { id: row.id },
      data: { certificateId: stored.id, status: "valid" },
    });
    return { ...target, certificateId: stored.id };
  }

  async function auditActions(targetId: string) {
    const rows = await c.services.prisma.auditEntry.findMany({ where: { targetId } });
    return rows.map((r) => r.action).sort();
  }

  it("deleting the certificate deletes its ACME entry in the same change, audited; a late renewal fails clearly", async () => {
    const entry = await issuedEntry();
    await callerAs(c, actors.operator).certificate.delete({ id: entry.certificateId });

    expect(await c.services.prisma.acmeCertificate.findUnique({ where: { id: entry.id } })).toBeNull();
    expect(await auditActions(entry.id)).toEqual(["certificate.acme_create", "certificate.acme_delete"]);
    const list = await callerAs(c, actors.viewer).certificate.acmeList({ clusterId });
    expect(list.map((r) => r.id)).not.toContain(entry.id);

    // A renewal that was already under way when the certificate went: refused, nothing created.
    const leaf = pki.issue({ cn: entry.name, dns: [`a${n}.example.test`] });
    const before = await c.services.prisma.certificate.count();
    await expect(storeIssuedCertificate(c.services, entry, leaf.certPem, leaf.keyPem)).rejects.toBeInstanceOf(
      AcmeCertificateGoneError,
    );
    expect(await c.services.prisma.certificate.count()).toBe(before);
  });

  it("acmeDelete stops the automation and keeps the issued certificate, audited", async () => {
    const entry = await issuedEntry();
    const op = callerAs(c, actors.operator);
    await op.certificate.acmeDelete({ id: entry.id });

    expect(await c.services.prisma.acmeCertificate.findUnique({ where: { id: entry.id } })).toBeNull();
    expect((await op.certificate.get({ id: entry.certificateId })).source).toBe("acme");
    expect(await auditActions(entry.id)).toEqual(["certificate.acme_create", "certificate.acme_delete"]);
    await expect(op.certificate.acmeDelete({ id: entry.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    // The certificate, no longer managed, deletes like an uploaded one.
    await op.certificate.delete({ id: entry.certificateId });
  });

  it("the database refuses to delete a certificate an entry still renews (foreign key); a cluster's delete takes both", async () => {
    const entry = await issuedEntry();
    // Any path other than certificate.delete (which removes the entry first, audited) fails loudly:
    // no entry is left renewing a certificate that is gone.
    await expect(
      c.services.prisma.certificate.delete({ where: { id: entry.certificateId } }),
    ).rejects.toThrow(/foreign key|constraint/i);
    expect(await c.services.prisma.certificate.count({ where: { id: entry.certificateId } })).toBe(1);
    expect(await c.services.prisma.acmeCertificate.count({ where: { id: entry.id } })).toBe(1);

    // The foreign key is checked at the end of the statement, so a cluster's cascade removes both.
    const other = (await callerAs(c, actors.operator).cluster.create({ name: "acme-delete-2" })).id;
    const doomed = await issuedEntry(other);
    await c.services.prisma.cluster.delete({ where: { id: other } });
    expect(await c.services.prisma.certificate.count({ where: { id: doomed.certificateId } })).toBe(0);
    expect(await c.services.prisma.acmeCertificate.count({ where: { id: doomed.id } })).toBe(0);
  });
});
