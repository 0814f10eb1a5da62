import { createTestDatabase, type TestDatabase } from "@fulcrum/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Logger } from "../logger";
import { FIELD, newAgg, type Scope } from "./aggregate";
import { FLUSH_GRACE_MS, MinuteFlush } from "./minute-flush";
import { readRollups } from "./rollups";
import { seriesKey } from "./series-key";

const MINUTE = 60_000;
const errors: string[] = [];
const log: Logger = { info: () => {}, warn: () => {}, error: (msg) => errors.push(msg) };

/** Adds `requests` to a series' unwritten minute, as ingest does. */
function add(
  flush: MinuteFlush,
  minute: number,
  clusterId: string,
  scope: Scope,
  id: string,
  requests: number,
) {
  const entries = flush.minute(minute);
  const key = seriesKey(clusterId, scope, id);
  let e = entries.get(key);
  if (!e) {
    e = { clusterId, scope, id, agg: newAgg() };
    entries.set(key, e);
  }
  e.agg.c[FIELD.requests]! += requests;
}

const unwrittenRequests = (flush: MinuteFlush, minute: number, key: string) =>
  [...flush.unwritten()]
    .filter(([m]) => m === minute)
    .reduce((sum, [, entries]) => sum + (entries.get(key)?.agg.c[FIELD.requests] ?? 0), 0);

/** The minute rollups' write path on a real database (PGlite, or PostgreSQL with DATABASE_URL). */
describe("unwritten minutes and their flush", () => {
  let db: TestDatabase;
  let clusterId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    clusterId = (await db.prisma.cluster.create({ data: { name: "edge" } })).id;
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("writes a minute only after its grace, keeps it readable and pending when the write fails, then writes it merged", async () => {
    const flush = new MinuteFlush({ prisma: db.prisma, log });
    const minute = Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;
    const key = seriesKey(clusterId, "pool", "p1");
    add(flush, minute, clusterId, "pool", "p1", 10);

    // Not due yet: the minute has ended, its grace has not.
    await flush.flush(minute + MINUTE + FLUSH_GRACE_MS - 1);
    expect(await readRollups(db.prisma, clusterId, "pool", ["p1"], minute, minute + MINUTE)).toEqual([]);
    expect(unwrittenRequests(flush, minute, key)).toBe(10);

    // The write fails (the table is missing), and a late point for the same minute arrives while
    // it runs: the minute must stay, both points added up, for reads and for the next flush.
    await db.prisma.$executeRawUnsafe(`ALTER TABLE "metric_rollups" RENAME TO "metric_rollups_away"`);
    try {
      const failing = flush.flush(minute + MINUTE + FLUSH_GRACE_MS);
      add(flush, minute, clusterId, "pool", "p1", 5);
      await expect(failing).rejects.toThrow();
    } finally {
      await db.prisma.$executeRawUnsafe(`ALTER TABLE "metric_rollups_away" RENAME TO "metric_rollups"`);
    }
    expect(errors).toContain("could not write metric rollups; will retry");
    expect(unwrittenRequests(flush, minute, key)).toBe(15);

    await flush.flush(minute + MINUTE + FLUSH_GRACE_MS);
    const rows = await readRollups(db.prisma, clusterId, "pool", ["p1"], minute, minute + MINUTE);
    expect(rows.map((r) => r.agg.c[FIELD.requests])).toEqual([15]);
    expect([...flush.unwritten()]).toEqual([]);
  });
});
