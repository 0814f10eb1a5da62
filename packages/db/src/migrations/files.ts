// Reads prisma/migrations the way Prisma does: one folder per migration, sorted
// by name (the timestamp prefix), checksum = sha256 hex of migration.sql.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

export interface MigrationFile {
  name: string;
  /** Absolute path, for error messages. */
  file: string;
  sql: string;
  checksum: string;
}

export function checksumOf(sql: string): string {
  return createHash("sha256").update(sql).digest("hex");
}

export function readMigrations(migrationsDir: string): MigrationFile[] {
  if (!existsSync(/*turbopackIgnore: true*/ migrationsDir)) {
    throw new Error(
      `Migrations directory ${migrationsDir} does not exist; pass the path to prisma/migrations.`,
    );
  }
  // turbopackIgnore: a dynamic path here would otherwise make Turbopack trace
  // the whole project into the console bundle.
  return readdirSync(/*turbopackIgnore: true*/ migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const file = path.join(migrationsDir, name, "migration.sql");
      if (!existsSync(/*turbopackIgnore: true*/ file)) {
        throw new Error(`${file} is missing: every folder in ${migrationsDir} must contain a migration.sql.`);
      }
      const sql = readFileSync(/*turbopackIgnore: true*/ file, "utf8");
      return { name, file, sql, checksum: checksumOf(sql) };
    });
}
