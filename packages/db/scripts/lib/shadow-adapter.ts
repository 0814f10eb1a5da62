// The driver-adapter factory the Wasm schema engine uses to replay existing
// migrations into a throwaway shadow database on a real PostgreSQL server.
import { PrismaPg } from "@prisma/adapter-pg";
import { ColumnTypeEnum, type SqlDriverAdapter, type SqlQueryable } from "@prisma/driver-adapter-utils";
import pg from "pg";

const TEXT_OID = 25;
const CHAR_OID = 18;
// adapter-pg 7.10.1 throws on "char" (18), int2vector (22) and oidvector (30),
// which the engine's catalog queries return. The vectors are only read as text.
// "char" (pg_constraint.contype etc.) must reach the engine as a Character
// column though, or it panics on any CHECK constraint; the pg client cannot
// say that, so it remembers which columns of which SQL text were "char" and the
// adapter wrapper below fixes the column types up. Catalog queries are fixed
// strings, so keying by SQL text is stable.
const RELABELLED_OIDS = new Set([CHAR_OID, 22, 30]);
const charColumnsBySql = new Map<string, number[]>();

function relabel(sql: string | undefined, result: unknown): unknown {
  const fields = (result as { fields?: { dataTypeID: number }[] } | undefined)?.fields ?? [];
  const charColumns: number[] = [];
  fields.forEach((field, index) => {
    if (field.dataTypeID === CHAR_OID) charColumns.push(index);
    if (RELABELLED_OIDS.has(field.dataTypeID)) field.dataTypeID = TEXT_OID;
  });
  if (sql !== undefined && charColumns.length > 0) charColumnsBySql.set(sql, charColumns);
  return result;
}

function sqlOf(config: unknown): string | undefined {
  if (typeof config === "string") return config;
  return (config as { text?: string } | undefined)?.text;
}

class CatalogFriendlyClient extends pg.Client {
  // pg.Pool#query calls client.query with a trailing callback, a direct caller
  // gets a promise; both shapes are relabelled.
  // biome-ignore lint/suspicious/noExplicitAny: pg.Client#query has many overloads; results are only post-processed.
  override query(...args: any[]): any {
    const sql = sqlOf(args[0]);
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === "function") {
      args[last] = (err: unknown, result: unknown) => callback(err, err ? result : relabel(sql, result));
    }
    // biome-ignore lint/suspicious/noExplicitAny: see above.
    const out = (super.query as any)(...args);
    return out && typeof out.then === "function" ? out.then((r: unknown) => relabel(sql, r)) : out;
  }
}

function restoreCharColumns<T extends SqlQueryable>(queryable: T): T {
  const queryRaw = queryable.queryRaw.bind(queryable);
  queryable.queryRaw = async (query) => {
    const result = await queryRaw(query);
    for (const index of charColumnsBySql.get(query.sql) ?? [])
      result.columnTypes[index] = ColumnTypeEnum.Character;
    return result;
  };
  return queryable;
}

function withCharColumns(adapter: SqlDriverAdapter): SqlDriverAdapter {
  const startTransaction = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (isolationLevel) =>
    restoreCharColumns(await startTransaction(isolationLevel));
  return restoreCharColumns(adapter);
}

export interface ShadowServer {
  host: string;
  port: number;
  user: string;
  password: string | undefined;
  /** Database to connect to for CREATE/DROP DATABASE; never written into. */
  database: string;
}

export function parseServerUrl(url: string): ShadowServer {
  const u = new URL(url);
  return {
    host: decodeURIComponent(u.hostname) || "127.0.0.1",
    port: u.port ? Number(u.port) : 5432,
    user: decodeURIComponent(u.username) || "postgres",
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database: decodeURIComponent(u.pathname.slice(1)) || "postgres",
  };
}

function poolConfig(server: ShadowServer, database: string): pg.PoolConfig {
  // allowExitOnIdle: the engine never disposes the main adapter, and idle
  // clients would otherwise keep the script alive for idleTimeoutMillis.
  return { ...server, database, Client: CatalogFriendlyClient, allowExitOnIdle: true } as pg.PoolConfig;
}

/**
 * A PrismaPg factory whose shadow database is created and dropped by us.
 *
 * PrismaPg's own connectToShadowDb() has two problems here: with a connection
 * string the string's database wins over the shadow name (so migrations are
 * replayed into the main database), and it drops the shadow database while its
 * pool is still connected. Host/port/user/database are therefore passed as
 * separate fields, and dropping happens after the pool has ended.
 */
export class ShadowPg extends PrismaPg {
  private readonly server: ShadowServer;
  private readonly undropped = new Set<string>();

  constructor(server: ShadowServer) {
    super(poolConfig(server, server.database));
    this.server = server;
  }

  override async connect() {
    return withCharColumns(await super.connect()) as Awaited<ReturnType<PrismaPg["connect"]>>;
  }

  override async connectToShadowDb() {
    const name = `prisma_shadow_${crypto.randomUUID().replaceAll("-", "")}`;
    await this.admin(`CREATE DATABASE "${name}"`);
    this.undropped.add(name);
    const pool = new pg.Pool(poolConfig(this.server, name));
    const adapter = await new PrismaPg(pool).connect();
    adapter.dispose = async () => {
      await pool.end();
      await this.admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      this.undropped.delete(name);
    };
    return withCharColumns(adapter) as typeof adapter;
  }

  /** Drops shadow databases left behind when the engine failed before disposing them. */
  async cleanup(): Promise<void> {
    for (const name of this.undropped) {
      await this.admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      this.undropped.delete(name);
    }
  }

  private async admin(sql: string): Promise<void> {
    const client = new pg.Client(this.server);
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }
}
