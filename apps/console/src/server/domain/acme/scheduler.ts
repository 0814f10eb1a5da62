import type { Logger } from "../../logger";
import type { CertificateDeps } from "../certificates/certificates";
import { AcmeCertificateGoneError } from "./errors";
import { type AcmeSettings, issueOnce } from "./issue";
import { acmeRetryDelayMs, renewalTime } from "./retry-delay";

/** How long a claimed certificate stays claimed: longer than any order takes; a crashed console's claim expires. */
const CLAIM_MS = 10 * 60_000;
/** The next attempt of an entry that no retry can fix (see AcmeCertificateGoneError): never due. */
const NEVER = new Date("9999-12-31T00:00:00Z");

/**
 * One per console. Every console may run it: a certificate is worked on by the
 * console that claims it, by moving its nextAttemptAt forward only if nobody
 * moved it first (a compare-and-set on the row, the same on PGlite and on a
 * PostgreSQL shared by several consoles), so one console issues it at a time.
 */
export class AcmeScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** A wake during a pass: look again after it (the new row may not have been due when it began). */
  private again = false;

  constructor(
    private readonly deps: CertificateDeps & { log: Logger },
    private readonly settings: AcmeSettings,
    private readonly intervalMs = 30_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.wake(), this.intervalMs);
    this.timer.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Looks for due work now (after a create or a "renew now"); one pass at a time. */
  wake(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.again = false;
    this.running = this.tick()
      .then(() => undefined)
      .catch((e: unknown) => this.deps.log.error("acme pass failed", { err: e }))
      .finally(() => {
        this.running = undefined;
        if (this.again && this.timer !== undefined) this.wake();
      });
  }

  /** Works on every certificate due by `now`; returns how many it claimed. */
  async tick(now = new Date()): Promise<number> {
    const due = await this.deps.prisma.acmeCertificate.findMany({
      where: { nextAttemptAt: { lte: now } },
      orderBy: { nextAttemptAt: "asc" },
      take: 20,
    });
    let claimed = 0;
    for (const row of due) {
      const { count } = await this.deps.prisma.acmeCertificate.updateMany({
        where: { id: row.id, nextAttemptAt: row.nextAttemptAt },
        data: {
          nextAttemptAt: new Date(Date.now() + CLAIM_MS),
          status: row.certificateId ? "renewing" : "pending",
        },
      });
      if (count !== 1) continue; // another console took it
      claimed++;
      await this.attempt(row);
    }
    return claimed;
  }

  private async attempt(row: {
    id: string;
    clusterId: string;
    name: string;
    names: string[];
    listenerId: string | null;
    certificateId: string | null;
    failures: number;
  }): Promise<void> {
    try {
      if (row.certificateId) await this.requireRenewedCertificate(row.name, row.certificateId);
      const issued = await issueOnce(this.deps, this.settings, row);
      const certificate = await this.deps.prisma.certificate.findFirst({
        where: { fingerprint: issued.fingerprint, clusterId: row.clusterId },
        select: { id: true },
      });
      await this.deps.prisma.acmeCertificate.updateMany({
        where: { id: row.id },
        data: {
          status: "valid",
          lastError: null,
          failures: 0,
          certificateId: certificate?.id ?? row.certificateId,
          nextAttemptAt: renewalTime(issued.notBefore, issued.notAfter),
        },
      });
      this.deps.log.info("acme certificate issued", { name: row.name, fingerprint: issued.fingerprint });
    } catch (e) {
      const message = (e instanceof Error ? e.message : String(e)).slice(0, 2000);
      const failures = row.failures + 1;
      // A deleted certificate does not come back by waiting: no next attempt until an operator acts.
      const nextAttemptAt =
        e instanceof AcmeCertificateGoneError ? NEVER : new Date(Date.now() + acmeRetryDelayMs(failures));
      await this.deps.prisma.acmeCertificate.updateMany({
        where: { id: row.id },
        data: { status: "failed", lastError: message, failures, nextAttemptAt },
      });
      this.deps.log.warn("acme attempt failed", { name: row.name, failures, err: message });
    }
  }

  /** Checked before ordering, so a renewal of a deleted certificate costs the CA nothing. */
  private async requireRenewedCertificate(name: string, certificateId: string): Promise<void> {
    const exists = await this.deps.prisma.certificate.findUnique({
      where: { id: certificateId },
      select: { id: true },
    });
    if (!exists) throw new AcmeCertificateGoneError(name, certificateId);
  }
}
