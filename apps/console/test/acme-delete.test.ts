import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AcmeCertificateGoneError } from "../src/server/domain/acme/errors";
import { AcmeScheduler } from "../src/server/domain/acme/scheduler";
import { type AcmeTarget, storeIssuedCertificate } from "../src/server/domain/acme/store";
import type { Logger } from "../src/server/logger";
import { actors, callerAs, startTestConsole, type TestConsole } from "./support/console";
import { TestPki } from "./test-pki";

/*
 * Deleting an ACME-issued certificate, or its ACME entry, on a real console
 * (PGlite). The issued certificate is stored through storeIssuedCertificate,
 * the very function the scheduler calls after Pebble or Let's Encrypt answer,
 * with a chain from the test PKI; acme-pebble.test.ts covers the CA side.
 */

/** A logger that keeps the lines (the scheduler's warnings are what is checked). */
function keepingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (m: string, f?: Record<string, unknown>) => lines.push(`${m} ${JSON.stringify(f ?? {})}`);
  return { lines, info: keep, warn: keep, error: keep };
}

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
  async function issuedEntry(): Promise<AcmeTarget & { certificateId: string }> {
    const host = `a${++n}.example.test`;
    const row = await callerAs(c, actors.operator).certificate.acmeCreate({
      clusterId,
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

  it("an entry whose certificate is gone fails once with a clear error and is never retried", async () => {
    const entry = await issuedEntry();
    // A row from before deletion took the entry along: its certificate removed underneath it.
    await c.services.prisma.certificate.delete({ where: { id: entry.certificateId } });
    await c.services.prisma.acmeCertificate.update({
      where: { id: entry.id },
      data: { nextAttemptAt: new Date(Date.now() - 1000) },
    });
    const log = keepingLogger();
    // Nothing listens there: were an order attempted, the error would be a connection failure instead.
    const scheduler = new AcmeScheduler(
      { ...c.services, log },
      { directoryUrl: "https://127.0.0.1:1/dir", email: "ops@example.test" },
    );

    expect(await scheduler.tick()).toBe(1);
    const row = await c.services.prisma.acmeCertificate.findUniqueOrThrow({ where: { id: entry.id } });
    expect(row.status).toBe("failed");
    expect(row.lastError).toContain("was deleted");
    expect(row.nextAttemptAt.getUTCFullYear()).toBe(9999);
    expect(log.lines.join("\n")).toContain("was deleted");

    // Passes a year from now still find nothing due: no retry loop.
    expect(await scheduler.tick(new Date(Date.now() + 366 * 24 * 3600_000))).toBe(0);
    // The operator's way out.
    await callerAs(c, actors.operator).certificate.acmeDelete({ id: entry.id });
    expect(await c.services.prisma.acmeCertificate.count({ where: { id: entry.id } })).toBe(0);
  });
});
