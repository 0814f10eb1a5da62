// @fulcrum/db is the only package that imports Prisma: apps get the client, its
// types and enums from here.
export { createDatabase, type Database, type DatabaseDriver } from "./client";
export {
  type DatabaseConfig,
  DEFAULT_DATA_DIR,
  databaseConfig,
  MEMORY_DATA_DIR,
  parseDatabaseConfig,
} from "./config";
// PrismaClient, the Prisma namespace, enums and model types (User, Cluster, ...).
export * from "./generated/prisma/client";
export { defaultMigrationsDir, type MigrateResult, migrate } from "./migrate";
export { listenForNotifications, type NotificationListener } from "./notifications";
export { type OpenDatabaseOptions, type OpenedDatabase, openDatabase } from "./open";
