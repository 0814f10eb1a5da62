// The one call an app makes at start-up: open the store and bring its schema up
// to date on the same connection, so it also works with single-opener PGlite.
import { createDatabase, type Database } from "./client";
import type { DatabaseConfig } from "./config";
import { migrate } from "./migrate";

export interface OpenDatabaseOptions {
  /** Path to prisma/migrations. Pass it explicitly from bundled apps; see defaultMigrationsDir(). */
  migrationsDir: string;
}

export interface OpenedDatabase extends Database {
  /** Migrations applied while opening (empty when already up to date). */
  readonly applied: string[];
}

export async function openDatabase(
  config: DatabaseConfig,
  options: OpenDatabaseOptions,
): Promise<OpenedDatabase> {
  const db = await createDatabase(config);
  try {
    const { applied } = await migrate(db, options.migrationsDir);
    return Object.assign(db, { applied });
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
}
