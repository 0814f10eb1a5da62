import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type DatabaseConfig, parseDatabaseConfig } from "@fulcrum/db";
import { z } from "zod";

const envSchema = z.object({
  /** 0 picks a free port (tests). */
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
  /** The URL people and agents use to reach this console; used for cookies and agent command lines. */
  FULCRUM_PUBLIC_URL: z.url().optional(),
  FULCRUM_SECRET: z.string().min(32, "FULCRUM_SECRET must be at least 32 characters").optional(),
  FULCRUM_ADMIN_EMAIL: z.email("FULCRUM_ADMIN_EMAIL must be an email address").optional(),
  FULCRUM_ADMIN_PASSWORD: z
    .string()
    .min(10, "FULCRUM_ADMIN_PASSWORD needs at least 10 characters")
    .optional(),
  FULCRUM_LOGIN_RATE_LIMIT: z.coerce.number().int().min(1).default(5),
  /** Days of 1-minute metric rollups (and agent config events) kept in the database. */
  FULCRUM_METRICS_RETENTION_DAYS: z.coerce
    .number()
    .int("FULCRUM_METRICS_RETENTION_DAYS must be a whole number of days")
    .min(1, "FULCRUM_METRICS_RETENTION_DAYS must be at least 1")
    .max(3650)
    .default(30),
  /** When set, GET /metrics requires `Authorization: Bearer <token>`. */
  FULCRUM_METRICS_TOKEN: z
    .union([z.literal(""), z.string().min(16, "FULCRUM_METRICS_TOKEN must be at least 16 characters")])
    .optional(),
  NODE_ENV: z.enum(["development", "production", "test"]).default("production"),
});

export interface ConsoleConfig {
  port: number;
  host: string;
  publicUrl: string;
  secret: string;
  dev: boolean;
  database: DatabaseConfig;
  bootstrapAdmin: { email: string; password: string } | undefined;
  /** Sign-in attempts allowed per client address per minute. */
  loginRateLimit: number;
  metrics: {
    retentionDays: number;
    /** Bearer token required by /metrics; undefined: public. */
    token: string | undefined;
  };
}

/** Parses the environment once, at start, and says exactly what to fix when it is wrong. */
export function loadConsoleConfig(env: NodeJS.ProcessEnv, opts: { dev: boolean }): ConsoleConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid console configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  if (Boolean(e.FULCRUM_ADMIN_EMAIL) !== Boolean(e.FULCRUM_ADMIN_PASSWORD)) {
    throw new Error("Set both FULCRUM_ADMIN_EMAIL and FULCRUM_ADMIN_PASSWORD, or neither.");
  }
  const database = parseDatabaseConfig(env);
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl: e.FULCRUM_PUBLIC_URL ?? `http://localhost:${e.PORT}`,
    secret: e.FULCRUM_SECRET ?? localSecret(env),
    dev: opts.dev,
    database,
    bootstrapAdmin:
      e.FULCRUM_ADMIN_EMAIL && e.FULCRUM_ADMIN_PASSWORD
        ? { email: e.FULCRUM_ADMIN_EMAIL, password: e.FULCRUM_ADMIN_PASSWORD }
        : undefined,
    loginRateLimit: e.FULCRUM_LOGIN_RATE_LIMIT,
    metrics: {
      retentionDays: e.FULCRUM_METRICS_RETENTION_DAYS,
      token: e.FULCRUM_METRICS_TOKEN || undefined,
    },
  };
}

/**
 * Without FULCRUM_SECRET a single console keeps a generated secret beside its
 * data, so sessions survive restarts with zero setup. Several consoles sharing
 * one PostgreSQL must be given the same FULCRUM_SECRET.
 */
function localSecret(env: NodeJS.ProcessEnv): string {
  const dir = path.resolve(env.FULCRUM_DATA_DIR ?? ".fulcrum");
  const file = path.join(dir, "secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dir, { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(file, secret, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}
