// The few operations the migration runner needs, over either a pg connection
// or a PGlite instance. Kept separate so the runner has one code path.
import { PGlite, type Transaction } from "@electric-sql/pglite";
import pg from "pg";
import type { Database } from "../client";
import type { DatabaseConfig } from "../config";

export interface SqlRunner {
  /** Runs one or more statements without parameters. */
  exec(sql: string): Promise<void>;
  query<Row>(sql: string, params?: unknown[]): Promise<Row[]>;
}

export interface MigrationSession extends SqlRunner {
  /** Runs fn in a transaction; rolled back if fn throws. */
  transaction(fn: (tx: SqlRunner) => Promise<void>): Promise<void>;
  /** Serializes runners across processes (no-op on PGlite: one process per data dir). */
  lock(): Promise<void>;
  unlock(): Promise<void>;
  release(): Promise<void>;
}

// Prisma Migrate's own advisory lock key: sharing it also keeps us from racing a
// `prisma migrate deploy` someone runs by hand.
const ADVISORY_LOCK_KEY = 72707369;

function pgRunner(client: pg.ClientBase): SqlRunner {
  return {
    async exec(sql) {
      // Without parameters pg uses the simple protocol, which accepts many statements.
      await client.query(sql);
    },
    async query<Row>(sql: string, params: unknown[] = []) {
      return (await client.query(sql, params)).rows as Row[];
    },
  };
}

function pgSession(client: pg.ClientBase, release: () => Promise<void>): MigrationSession {
  const runner = pgRunner(client);
  return {
    ...runner,
    async transaction(fn) {
      await client.query("BEGIN");
      try {
        await fn(runner);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {});
        throw error;
      }
    },
    async lock() {
      await client.query("SELECT pg_advisory_lock($1)", [ADVISORY_LOCK_KEY]);
    },
    async unlock() {
      await client.query("SELECT pg_advisory_unlock($1)", [ADVISORY_LOCK_KEY]);
    },
    release,
  };
}

function pgliteRunner(db: PGlite | Transaction): SqlRunner {
  return {
    async exec(sql) {
      await db.exec(sql);
    },
    async query<Row>(sql: string, params: unknown[] = []) {
      return (await db.query<Row>(sql, params)).rows;
    },
  };
}

function pgliteSession(pglite: PGlite, release: () => Promise<void>): MigrationSession {
  return {
    ...pgliteRunner(pglite),
    async transaction(fn) {
      await pglite.transaction((tx) => fn(pgliteRunner(tx)));
    },
    async lock() {},
    async unlock() {},
    release,
  };
}

/** A session on an open Database (reusing its pool / PGlite) or on a fresh connection from a config. */
export async function openSession(target: DatabaseConfig | Database): Promise<MigrationSession> {
  if ("driver" in target) {
    const { driver } = target;
    if (driver.kind === "pglite") return pgliteSession(driver.pglite, async () => {});
    const client = await driver.pool.connect();
    // Destroy rather than return the connection: whatever happens, no advisory
    // lock or aborted transaction can leak into the pool.
    return pgSession(client, async () => client.release(true));
  }
  if (target.kind === "postgres") {
    const client = new pg.Client({ connectionString: target.url });
    await client.connect();
    return pgSession(client, () => client.end());
  }
  const pglite = await PGlite.create(target.dataDir);
  return pgliteSession(pglite, () => pglite.close());
}
