import { createHash, randomUUID } from "node:crypto";
import type { PrismaClient } from "@fulcrum/db";

export interface LoginLimits {
  /** Failed sign-ins allowed per client address and account per window. */
  maxFailuresPerAccount: number;
  /** Failed sign-ins allowed per client address, all accounts together, per window (password spraying). */
  maxFailuresPerAddress: number;
  windowMs: number;
}

/** An attempt under way: counted as a failure until it is known to have succeeded. */
export interface LoginAttempt {
  accountKey: string;
  addressKey: string;
}

export type LoginDecision =
  | { allowed: true; attempt: LoginAttempt }
  | { allowed: false; retryAfterSeconds: number };

/**
 * Counts failed sign-ins by client address and account, in fixed windows kept
 * in the database (every console process sharing it sees the same counts), in
 * the table better-auth keeps its own limits in, under keys of our own.
 *
 * Each attempt is counted before the password is checked, so a burst of
 * parallel guesses cannot all pass a count that the first failures have not
 * raised yet; a success then takes its count back and clears that account's
 * failures from that address. Refused attempts are not counted, so one
 * account's attacker cannot run up the address count that other people
 * behind the same proxy share.
 */
export class LoginLimiter {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly limits: LoginLimits,
  ) {}

  async begin(address: string, email: string): Promise<LoginDecision> {
    const account = createHash("sha256").update(email.trim().toLowerCase()).digest("hex").slice(0, 32);
    const attempt = {
      accountKey: `fulcrum-login/account/${address}/${account}`,
      addressKey: `fulcrum-login/address/${address}`,
    };
    const now = Date.now();
    const byAccount = await this.count(attempt.accountKey, now);
    const byAddress = await this.count(attempt.addressKey, now);
    const over = [
      byAccount.count > this.limits.maxFailuresPerAccount ? byAccount : undefined,
      byAddress.count > this.limits.maxFailuresPerAddress ? byAddress : undefined,
    ].filter((w) => w !== undefined);
    if (over.length === 0) return { allowed: true, attempt };
    await this.takeBack(attempt.accountKey);
    await this.takeBack(attempt.addressKey);
    const until = Math.max(...over.map((w) => w.windowStart + this.limits.windowMs));
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((until - now) / 1000)) };
  }

  /** The password was right: this account starts afresh from this address, and the attempt was no failure. */
  async succeeded(attempt: LoginAttempt): Promise<void> {
    await this.prisma.$executeRaw`DELETE FROM rate_limits WHERE key = ${attempt.accountKey}`;
    await this.takeBack(attempt.addressKey);
  }

  /**
   * Adds one to `key` in the current window (a window older than windowMs starts over at 1).
   * Our rows keep the window's start in the "lastRequest" column.
   */
  private async count(key: string, now: number): Promise<{ count: number; windowStart: number }> {
    const expired = BigInt(now - this.limits.windowMs);
    const rows = await this.prisma.$queryRaw<Array<{ count: number; lastRequest: bigint }>>`
      INSERT INTO rate_limits (id, key, count, "lastRequest")
      VALUES (${randomUUID()}, ${key}, 1, ${BigInt(now)})
      ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN rate_limits."lastRequest" <= ${expired} THEN 1 ELSE rate_limits.count + 1 END,
        "lastRequest" = CASE WHEN rate_limits."lastRequest" <= ${expired}
          THEN ${BigInt(now)} ELSE rate_limits."lastRequest" END
      RETURNING count, "lastRequest"`;
    const row = rows[0];
    if (!row) throw new Error(`rate limit row ${key} was not written`);
    return { count: Number(row.count), windowStart: Number(row.lastRequest) };
  }

  private async takeBack(key: string): Promise<void> {
    await this.prisma.$executeRaw`UPDATE rate_limits SET count = GREATEST(count - 1, 0) WHERE key = ${key}`;
  }
}
