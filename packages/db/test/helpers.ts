import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createDatabase, type Database, defaultMigrationsDir, MEMORY_DATA_DIR } from "../src/index";
import { createFreshPostgresDatabase } from "../src/testing";

export const onPostgres = Boolean(process.env.DATABASE_URL);

/** An empty, unmigrated database: a new one on the DATABASE_URL server, or in-memory PGlite. */
export async function emptyDatabase(): Promise<{ db: Database; url?: string; drop(): Promise<void> }> {
  if (!onPostgres) {
    const db = await createDatabase({ kind: "pglite", dataDir: MEMORY_DATA_DIR });
    return { db, drop: () => db.close() };
  }
  const fresh = await createFreshPostgresDatabase();
  const db = await createDatabase({ kind: "postgres", url: fresh.url });
  return {
    db,
    url: fresh.url,
    async drop() {
      await db.close();
      await fresh.drop();
    },
  };
}

/** A private copy of prisma/migrations that a test may tamper with. */
export function copyOfMigrations(): { dir: string; remove(): void } {
  const root = mkdtempSync(path.join(tmpdir(), "fulcrum-migrations-"));
  const dir = path.join(root, "migrations");
  cpSync(defaultMigrationsDir(), dir, { recursive: true });
  return { dir, remove: () => rmSync(root, { recursive: true, force: true }) };
}
