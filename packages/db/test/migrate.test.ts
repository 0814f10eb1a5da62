import { appendFileSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, defaultMigrationsDir, migrate } from "../src/index";
import { checksumOf } from "../src/migrations/files";
import { copyOfMigrations, emptyDatabase, onPostgres } from "./helpers";

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished_at: unknown;
  rolled_back_at: unknown;
  applied_steps_count: number;
  logs: string | null;
}

async function history(db: Database): Promise<HistoryRow[]> {
  return db.prisma.$queryRawUnsafe<HistoryRow[]>(
    `SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count, logs
     FROM "_prisma_migrations" ORDER BY migration_name`,
  );
}

describe("migrate", () => {
  const migrations = copyOfMigrations();
  const names = readdirSync(migrations.dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  let target: Awaited<ReturnType<typeof emptyDatabase>>;

  beforeAll(async () => {
    target = await emptyDatabase();
  });
  afterAll(async () => {
    await target?.drop();
    migrations.remove();
  });

  it("applies the init migration to a fresh database and records it like Prisma", async () => {
    expect(names[0]).toMatch(/^\d{14}_init$/);
    const result = await migrate(target.db, migrations.dir);
    expect(result.applied).toEqual(names);

    const rows = await history(target.db);
    expect(rows.map((row) => row.migration_name)).toEqual(names);
    const init = rows[0]!;
    const sql = readFileSync(path.join(migrations.dir, names[0]!, "migration.sql"), "utf8");
    expect(init.checksum).toBe(checksumOf(sql));
    expect(init.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(init.finished_at).not.toBeNull();
    expect(init.rolled_back_at).toBeNull();
    expect(init.applied_steps_count).toBe(1);
  });

  it("applies nothing the second time and keeps data inserted in between", async () => {
    await target.db.prisma.cluster.create({ data: { name: "kept" } });
    const again = await migrate(target.db, migrations.dir);
    expect(again.applied).toEqual([]);
    expect(await target.db.prisma.cluster.findUnique({ where: { name: "kept" } })).not.toBeNull();
    expect(await history(target.db)).toHaveLength(names.length);
  });

  it("reports an applied migration whose file changed, naming the file", async () => {
    const file = path.join(migrations.dir, names[0]!, "migration.sql");
    appendFileSync(file, "\n-- edited after the fact\n");
    await expect(migrate(target.db, migrations.dir)).rejects.toThrow(file);
    await expect(migrate(target.db, migrations.dir)).rejects.toThrow(/modified after it was applied/);
  });

  it.runIf(onPostgres)("lets two runners start at once without racing (advisory lock)", async () => {
    const other = await emptyDatabase();
    try {
      // Separate connections (configs, not the shared handle), as two processes would have.
      const dir = defaultMigrationsDir();
      const results = await Promise.all([migrate(other.db.config, dir), migrate(other.db.config, dir)]);
      expect(results.map((r) => r.applied.length).sort()).toEqual([0, names.length]);
    } finally {
      await other.drop();
    }
  });
});
