// Fulcrum's replacement for `prisma migrate deploy` (whose native engine cannot
// be downloaded here). It keeps Prisma's bookkeeping table exactly, so Prisma's
// own tools see a database migrated by it as up to date.
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Database } from "./client";
import type { DatabaseConfig } from "./config";
import { readMigrations } from "./migrations/files";
import { openSession } from "./migrations/session";

export interface MigrateResult {
  /** Names of the migrations applied by this call, in order. */
  applied: string[];
}

// Prisma Migrate's DDL for its history table, verbatim.
const CREATE_HISTORY_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | string | null;
}

/**
 * Applies every migration in migrationsDir not yet recorded in _prisma_migrations,
 * in name order, each in its own transaction together with its history row.
 *
 * With a Database it runs on that database's own pool / PGlite instance (required
 * for PGlite, which one process can open only once); with a config it opens and
 * closes its own connection.
 */
export async function migrate(
  target: DatabaseConfig | Database,
  migrationsDir: string,
): Promise<MigrateResult> {
  const migrations = readMigrations(migrationsDir);
  const session = await openSession(target);
  try {
    await session.lock();
    try {
      await session.exec(CREATE_HISTORY_TABLE);
      // Rolled-back rows are history only; Prisma also ignores them.
      const rows = await session.query<HistoryRow>(
        `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL`,
      );
      const recorded = new Map(rows.map((row) => [row.migration_name, row]));

      const applied: string[] = [];
      for (const migration of migrations) {
        const row = recorded.get(migration.name);
        if (row) {
          if (row.finished_at === null) {
            throw new Error(
              `Migration ${migration.name} started but never finished (recorded by another tool). ` +
                `Fix the database by hand, then delete or mark its row in "_prisma_migrations".`,
            );
          }
          if (row.checksum !== migration.checksum) {
            throw new Error(
              `${migration.file} was modified after it was applied to this database ` +
                `(recorded checksum ${row.checksum}, file ${migration.checksum}). ` +
                "Restore the original file and put the change in a new migration (pnpm db:migration <name>).",
            );
          }
          continue;
        }
        await session.transaction(async (tx) => {
          const startedAt = new Date();
          try {
            await tx.exec(migration.sql);
          } catch (error) {
            throw new Error(`Migration ${migration.file} failed: ${(error as Error).message}`, {
              cause: error,
            });
          }
          await tx.query(
            `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
             VALUES ($1, $2, clock_timestamp(), $3, NULL, NULL, $4, 1)`,
            [randomUUID(), migration.checksum, migration.name, startedAt.toISOString()],
          );
        });
        applied.push(migration.name);
      }
      return { applied };
    } finally {
      await session.unlock().catch(() => {});
    }
  } finally {
    await session.release();
  }
}

/**
 * The repository's prisma/migrations, found from this file's location, or else
 * from the working directory upwards. Bundlers (Next) move this file, so
 * long-running apps should pass an explicit path instead.
 */
export function defaultMigrationsDir(cwd: string = process.cwd()): string {
  const candidates: string[] = [];
  try {
    candidates.push(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../prisma/migrations"));
  } catch {
    // import.meta.url is not a file: URL inside some bundles.
  }
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    candidates.push(path.join(dir, "prisma/migrations"));
    if (path.dirname(dir) === dir) break;
  }
  const found = candidates.find((candidate) => existsSync(/*turbopackIgnore: true*/ candidate));
  if (!found) {
    throw new Error(
      `Cannot find prisma/migrations (looked in ${candidates.join(", ")}); pass migrationsDir explicitly.`,
    );
  }
  return found;
}
