// Where the data lives, decided once from the environment: a PostgreSQL server
// when DATABASE_URL is set, otherwise an embedded PGlite directory so the
// console runs with zero setup.
import path from "node:path";

export type DatabaseConfig = { kind: "postgres"; url: string } | { kind: "pglite"; dataDir: string };

/** PGlite data directory for in-process, throwaway databases (tests). */
export const MEMORY_DATA_DIR = "memory://";

export const DEFAULT_DATA_DIR = "./.fulcrum";

type Env = Record<string, string | undefined>;

export function parseDatabaseConfig(env: Env = process.env, cwd: string = process.cwd()): DatabaseConfig {
  const url = env.DATABASE_URL?.trim();
  if (url) return { kind: "postgres", url: validatePostgresUrl(url) };

  const dataDir = env.FULCRUM_DATA_DIR?.trim() || DEFAULT_DATA_DIR;
  if (dataDir === MEMORY_DATA_DIR) return { kind: "pglite", dataDir };
  if (dataDir.includes("://")) {
    throw new Error(
      `FULCRUM_DATA_DIR must be a directory path (or "${MEMORY_DATA_DIR}"), got "${dataDir}". ` +
        "To use a PostgreSQL server set DATABASE_URL instead.",
    );
  }
  return { kind: "pglite", dataDir: path.resolve(cwd, dataDir) };
}

function validatePostgresUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(
      "DATABASE_URL is not a valid URL; expected postgres://user[:password]@host[:port]/database " +
        "(unset it to use the embedded database in FULCRUM_DATA_DIR).",
    );
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new Error(
      `DATABASE_URL must start with postgres:// or postgresql://, got "${parsed.protocol}//". ` +
        "Only PostgreSQL is supported.",
    );
  }
  if (!parsed.hostname)
    throw new Error("DATABASE_URL has no host; expected postgres://user@host:5432/database.");
  if (parsed.pathname.length <= 1) {
    throw new Error("DATABASE_URL has no database name; expected postgres://user@host:5432/database.");
  }
  return url;
}

let cached: DatabaseConfig | undefined;

/** The process-wide config, parsed from process.env on first use. */
export function databaseConfig(): DatabaseConfig {
  cached ??= parseDatabaseConfig();
  return cached;
}
