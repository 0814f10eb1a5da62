// Opens the Prisma client on whichever store the config names. The underlying
// driver (pg pool or PGlite instance) is exposed too, because PGlite allows only
// one opener per data directory: the migration runner must reuse it.
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import type { DatabaseConfig } from "./config";
import { PrismaClient } from "./generated/prisma/client";

export type DatabaseDriver = { kind: "postgres"; pool: pg.Pool } | { kind: "pglite"; pglite: PGlite };

export interface Database {
  readonly config: DatabaseConfig;
  readonly prisma: PrismaClient;
  readonly driver: DatabaseDriver;
  /** Disconnects Prisma and closes the pool / PGlite instance. Idempotent. */
  close(): Promise<void>;
}

export async function createDatabase(config: DatabaseConfig): Promise<Database> {
  const driver = await openDriver(config);
  const adapter = driver.kind === "postgres" ? new PrismaPg(driver.pool) : new PrismaPGlite(driver.pglite);
  const prisma = new PrismaClient({ adapter });
  let closing: Promise<void> | undefined;
  return {
    config,
    prisma,
    driver,
    close() {
      closing ??= (async () => {
        await prisma.$disconnect();
        if (driver.kind === "postgres") await driver.pool.end();
        else await driver.pglite.close();
      })();
      return closing;
    },
  };
}

async function openDriver(config: DatabaseConfig): Promise<DatabaseDriver> {
  if (config.kind === "postgres") {
    const pool = new pg.Pool({ connectionString: config.url });
    // An idle client losing its connection (server restart) must not crash the process.
    pool.on("error", (error) => console.error("[db] idle PostgreSQL connection failed:", error.message));
    return { kind: "postgres", pool };
  }
  // Awaiting readiness here surfaces a locked or corrupt data directory at open
  // time instead of on the first query.
  const pglite = await PGlite.create(config.dataDir);
  return { kind: "pglite", pglite };
}
