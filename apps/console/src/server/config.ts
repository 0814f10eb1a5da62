import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type DatabaseConfig, parseDatabaseConfig } from "@fulcrum/db";
import { z } from "zod";
import type { AcmeSettings } from "./domain/acme/issue";
import { type AgentLimits, agentLimitsFromEnv } from "./gateway/agent-limits";

/**
 * A whole number from the environment, written in decimal digits only: "0x50",
 * "1e3", " 5" and "" are mistakes to report, not numbers to guess at.
 */
function wholeNumber(name: string, bounds: { min: number; max: number; default: number; unit?: string }) {
  const range = `${name} must be a whole number from ${bounds.min} to ${bounds.max}${bounds.unit ? ` (${bounds.unit})` : ""}`;
  return z
    .string()
    .regex(/^[0-9]{1,15}$/, range)
    .transform(Number)
    .pipe(z.number().min(bounds.min, range).max(bounds.max, range))
    .default(bounds.default);
}

const KiB = 1024;
const MiB = 1024 * KiB;

const envSchema = z.object({
  /** 0 picks a free port (tests). */
  PORT: wholeNumber("PORT", { min: 0, max: 65535, default: 3000 }),
  HOST: z.string().min(1).default("0.0.0.0"),
  /** The URL people and agents use to reach this console; used for cookies and agent command lines. */
  FULCRUM_PUBLIC_URL: z.url().optional(),
  FULCRUM_SECRET: z.string().min(32, "FULCRUM_SECRET must be at least 32 characters").optional(),
  /** Comma-separated earlier secrets, read only to re-encrypt certificate keys after a rotation. */
  FULCRUM_PREVIOUS_SECRETS: z.string().optional(),
  FULCRUM_ADMIN_EMAIL: z.email("FULCRUM_ADMIN_EMAIL must be an email address").optional(),
  FULCRUM_ADMIN_PASSWORD: z
    .string()
    .min(10, "FULCRUM_ADMIN_PASSWORD needs at least 10 characters")
    .optional(),
  /** Failed sign-ins allowed per client address and account in one window. */
  FULCRUM_LOGIN_RATE_LIMIT: wholeNumber("FULCRUM_LOGIN_RATE_LIMIT", { min: 1, max: 10_000, default: 5 }),
  /** Failed sign-ins allowed per client address, whatever the account, in one window (password spraying). */
  FULCRUM_LOGIN_ADDRESS_RATE_LIMIT: wholeNumber("FULCRUM_LOGIN_ADDRESS_RATE_LIMIT", {
    min: 1,
    max: 100_000,
    default: 50,
  }),
  FULCRUM_LOGIN_WINDOW_SECONDS: wholeNumber("FULCRUM_LOGIN_WINDOW_SECONDS", {
    min: 1,
    max: 86_400,
    default: 60,
    unit: "seconds",
  }),
  /** Request bodies of anonymous requests: sign-in, setup, agent enrollment. */
  FULCRUM_ANONYMOUS_BODY_LIMIT: wholeNumber("FULCRUM_ANONYMOUS_BODY_LIMIT", {
    min: 1 * KiB,
    max: 1 * MiB,
    default: 16 * KiB,
    unit: "bytes",
  }),
  /** Request bodies of signed-in API calls (a change preview of 200 moves is about 60 KiB). */
  FULCRUM_BODY_LIMIT: wholeNumber("FULCRUM_BODY_LIMIT", {
    min: 64 * KiB,
    max: 64 * MiB,
    default: 1 * MiB,
    unit: "bytes",
  }),
  /** Calls in one tRPC batch; the console's pages send at most 20 (lib/trpc.tsx). */
  FULCRUM_TRPC_MAX_BATCH: wholeNumber("FULCRUM_TRPC_MAX_BATCH", { min: 20, max: 1000, default: 50 }),
  /** Nesting of arrays and objects in a JSON request; deeper is refused before it is parsed. */
  FULCRUM_JSON_MAX_DEPTH: wholeNumber("FULCRUM_JSON_MAX_DEPTH", { min: 8, max: 256, default: 32 }),
  /** Time a client has to send a request's headers. */
  FULCRUM_HEADERS_TIMEOUT_MS: wholeNumber("FULCRUM_HEADERS_TIMEOUT_MS", {
    min: 1000,
    max: 600_000,
    default: 20_000,
    unit: "ms",
  }),
  /** Time a client has to send a whole request, headers and body. */
  FULCRUM_REQUEST_TIMEOUT_MS: wholeNumber("FULCRUM_REQUEST_TIMEOUT_MS", {
    min: 1000,
    max: 3_600_000,
    default: 60_000,
    unit: "ms",
  }),
  /** Days of 1-minute metric rollups (and agent config events) kept in the database. */
  FULCRUM_METRICS_RETENTION_DAYS: wholeNumber("FULCRUM_METRICS_RETENTION_DAYS", {
    min: 1,
    max: 3650,
    default: 30,
    unit: "days",
  }),
  /** When set, GET /metrics requires `Authorization: Bearer <token>`. */
  FULCRUM_METRICS_TOKEN: z
    .union([z.literal(""), z.string().min(16, "FULCRUM_METRICS_TOKEN must be at least 16 characters")])
    .optional(),
  /** ACME (automatic certificates): the CA's directory URL; unset: no ACME scheduler. */
  FULCRUM_ACME_DIRECTORY_URL: z.url("FULCRUM_ACME_DIRECTORY_URL must be a URL").optional(),
  FULCRUM_ACME_EMAIL: z.email("FULCRUM_ACME_EMAIL must be an email address").optional(),
  /** A PEM CA file trusted for the ACME directory connection only (a private or test CA such as Pebble's). */
  FULCRUM_ACME_CA_FILE: z.string().min(1).optional(),
  /** Minutes between rotations of each cluster's TLS session-ticket keys (default 12 h). */
  FULCRUM_TICKET_KEY_ROTATION_MINUTES: wholeNumber("FULCRUM_TICKET_KEY_ROTATION_MINUTES", {
    min: 1,
    max: 10_080,
    default: 720,
    unit: "minutes",
  }),
  NODE_ENV: z.enum(["development", "production", "test"]).default("production"),
});

export interface ConsoleConfig {
  port: number;
  host: string;
  publicUrl: string;
  secret: string;
  /** FULCRUM_PREVIOUS_SECRETS: certificate keys encrypted with these are re-encrypted at start. */
  previousSecrets: string[];
  dev: boolean;
  database: DatabaseConfig;
  bootstrapAdmin: { email: string; password: string } | undefined;
  login: {
    /** Failed sign-ins allowed per client address and account per window. */
    maxFailuresPerAccount: number;
    /** Failed sign-ins allowed per client address, all accounts together, per window. */
    maxFailuresPerAddress: number;
    windowMs: number;
  };
  /** Limits on what one HTTP request may carry; see docs/operations.md. */
  http: {
    anonymousBodyBytes: number;
    bodyBytes: number;
    maxBatch: number;
    maxJsonDepth: number;
    headersTimeoutMs: number;
    requestTimeoutMs: number;
  };
  /** What one agent connection may send (FULCRUM_AGENT_*); see docs/operations.md. */
  agentLimits: AgentLimits;
  /** Automatic certificates; undefined when FULCRUM_ACME_DIRECTORY_URL is unset. */
  acme: AcmeSettings | undefined;
  /** Time between rotations of each cluster's session-ticket key ring (FULCRUM_TICKET_KEY_ROTATION_MINUTES). */
  ticketKeyRotationMs: number;
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
  if (e.FULCRUM_REQUEST_TIMEOUT_MS < e.FULCRUM_HEADERS_TIMEOUT_MS) {
    throw new Error("FULCRUM_REQUEST_TIMEOUT_MS must be at least FULCRUM_HEADERS_TIMEOUT_MS.");
  }
  if (e.FULCRUM_BODY_LIMIT < e.FULCRUM_ANONYMOUS_BODY_LIMIT) {
    throw new Error("FULCRUM_BODY_LIMIT must be at least FULCRUM_ANONYMOUS_BODY_LIMIT.");
  }
  if (Boolean(e.FULCRUM_ADMIN_EMAIL) !== Boolean(e.FULCRUM_ADMIN_PASSWORD)) {
    throw new Error("Set both FULCRUM_ADMIN_EMAIL and FULCRUM_ADMIN_PASSWORD, or neither.");
  }
  const database = parseDatabaseConfig(env);
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl: e.FULCRUM_PUBLIC_URL ?? `http://localhost:${e.PORT}`,
    secret: e.FULCRUM_SECRET ?? localSecret(env),
    previousSecrets: (e.FULCRUM_PREVIOUS_SECRETS ?? "")
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean),
    dev: opts.dev,
    database,
    bootstrapAdmin:
      e.FULCRUM_ADMIN_EMAIL && e.FULCRUM_ADMIN_PASSWORD
        ? { email: e.FULCRUM_ADMIN_EMAIL, password: e.FULCRUM_ADMIN_PASSWORD }
        : undefined,
    login: {
      maxFailuresPerAccount: e.FULCRUM_LOGIN_RATE_LIMIT,
      maxFailuresPerAddress: e.FULCRUM_LOGIN_ADDRESS_RATE_LIMIT,
      windowMs: e.FULCRUM_LOGIN_WINDOW_SECONDS * 1000,
    },
    http: {
      anonymousBodyBytes: e.FULCRUM_ANONYMOUS_BODY_LIMIT,
      bodyBytes: e.FULCRUM_BODY_LIMIT,
      maxBatch: e.FULCRUM_TRPC_MAX_BATCH,
      maxJsonDepth: e.FULCRUM_JSON_MAX_DEPTH,
      headersTimeoutMs: e.FULCRUM_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.FULCRUM_REQUEST_TIMEOUT_MS,
    },
    agentLimits: agentLimitsFromEnv(env),
    acme: acmeSettings(e),
    ticketKeyRotationMs: e.FULCRUM_TICKET_KEY_ROTATION_MINUTES * 60_000,
    metrics: {
      retentionDays: e.FULCRUM_METRICS_RETENTION_DAYS,
      token: e.FULCRUM_METRICS_TOKEN || undefined,
    },
  };
}

function acmeSettings(e: z.infer<typeof envSchema>): AcmeSettings | undefined {
  if (!e.FULCRUM_ACME_DIRECTORY_URL) {
    if (e.FULCRUM_ACME_EMAIL || e.FULCRUM_ACME_CA_FILE) {
      throw new Error("FULCRUM_ACME_EMAIL and FULCRUM_ACME_CA_FILE need FULCRUM_ACME_DIRECTORY_URL.");
    }
    return undefined;
  }
  if (!e.FULCRUM_ACME_EMAIL)
    throw new Error("Set FULCRUM_ACME_EMAIL with FULCRUM_ACME_DIRECTORY_URL (the CA's account contact).");
  let caPem: string | undefined;
  if (e.FULCRUM_ACME_CA_FILE) {
    try {
      caPem = readFileSync(e.FULCRUM_ACME_CA_FILE, "utf8");
    } catch (err) {
      throw new Error(
        `FULCRUM_ACME_CA_FILE: cannot read ${e.FULCRUM_ACME_CA_FILE}: ${(err as Error).message}`,
      );
    }
    if (!caPem.includes("-----BEGIN CERTIFICATE-----"))
      throw new Error("FULCRUM_ACME_CA_FILE holds no PEM certificate.");
  }
  return {
    directoryUrl: e.FULCRUM_ACME_DIRECTORY_URL,
    email: e.FULCRUM_ACME_EMAIL,
    ...(caPem !== undefined ? { caPem } : {}),
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
