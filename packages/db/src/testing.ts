// Throwaway databases for integration tests. With DATABASE_URL set, each test
// database is a new database on that server (the given database itself is
// never written); otherwise an in-memory PGlite.
import pg from "pg";
import { createDatabase } from "./client";
import type { DatabaseConfig } from "./config";
import { MEMORY_DATA_DIR } from "./config";
import type { PrismaClient } from "./generated/prisma/client";
import { defaultMigrationsDir, migrate } from "./migrate";

export interface TestDatabase {
  prisma: PrismaClient;
  config: DatabaseConfig;
  /** Set when the database lives on a PostgreSQL server. */
  url?: string;
  /** Closes the client and, on PostgreSQL, drops the database. */
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** Defaults to the repository's prisma/migrations. */
  migrationsDir?: string;
  /** Server to create the database on; defaults to env DATABASE_URL. Unset means PGlite. */
  serverUrl?: string;
}

function uniqueName(): string {
  return `fulcrum_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
}

async function onServer(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface FreshPostgres {
  url: string;
  drop(): Promise<void>;
}

/**
 * An empty, unmigrated database on the server of serverUrl (default env
 * DATABASE_URL), e.g. for spawning a console server in e2e tests; it migrates
 * itself on start-up.
 */
export async function createFreshPostgresDatabase(
  serverUrl = process.env.DATABASE_URL,
): Promise<FreshPostgres> {
  if (!serverUrl)
    throw new Error("createFreshPostgresDatabase needs DATABASE_URL (a PostgreSQL server URL).");
  const name = uniqueName();
  await onServer(serverUrl, `CREATE DATABASE "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => onServer(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const migrationsDir = options.migrationsDir ?? defaultMigrationsDir();
  const serverUrl = options.serverUrl ?? process.env.DATABASE_URL;

  if (!serverUrl) {
    const config: DatabaseConfig = { kind: "pglite", dataDir: MEMORY_DATA_DIR };
    const db = await createDatabase(config);
    await migrate(db, migrationsDir).catch(async (error) => {
      await db.close();
      throw error;
    });
    return { prisma: db.prisma, config, drop: () => db.close() };
  }

  const fresh = await createFreshPostgresDatabase(serverUrl);
  const config: DatabaseConfig = { kind: "postgres", url: fresh.url };
  try {
    const db = await createDatabase(config);
    try {
      await migrate(db, migrationsDir);
    } catch (error) {
      await db.close();
      throw error;
    }
    return {
      prisma: db.prisma,
      config,
      url: fresh.url,
      async drop() {
        await db.close();
        await fresh.drop();
      },
    };
  } catch (error) {
    await fresh.drop().catch(() => {});
    throw error;
  }
}
