import { availableParallelism, hostname } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { enrollRequestSchema, isLoopbackHost } from "@fulcrum/protocol";
import { z } from "zod";
import { type ConsoleTls, readConsoleCa } from "./console/console-tls";
import { ConfigError } from "./errors";

export const USAGE = `usage:
  fulcrum-agent --console URL [--console-ca FILE] [--token TOKEN] [--state-dir DIR] [--name NAME] [--stats-buffer N] [METRICS] [ENGINE]
  fulcrum-agent --config snapshot.json [--name NAME] [METRICS] [ENGINE]

  --console URL     console base URL, e.g. https://console.example:3000   (env FULCRUM_CONSOLE_URL)
                    http:// only to this machine (localhost, 127.0.0.0/8, ::1) unless --insecure-console-url
  --console-ca FILE PEM CA certificate(s) the console's certificate must chain to, instead of the
                    system's roots (env FULCRUM_CONSOLE_CA); read once at start
  --insecure-console-url  allow an http:// console on another host: the credential and TLS keys then
                    cross the network unencrypted (env FULCRUM_INSECURE_CONSOLE_URL=1)
  --token TOKEN     enrollment token; needed only until the agent holds a credential (env FULCRUM_AGENT_TOKEN)
  --state-dir DIR   where the credential and last good snapshot live (default ./.fulcrum-agent, env FULCRUM_STATE_DIR)
  --name NAME       name shown in the console (default: this host's name)
  --config FILE     serve a snapshot file without a console (SIGHUP reloads it)
  --stats-buffer N  per-second stats points kept while the console is unreachable (default 900 = 15 min)
ENGINE:
  --engine NAME        data plane: builtin (default) or haproxy (env FULCRUM_ENGINE)
  --workers N|auto     builtin engine: data-plane worker processes sharing every listener (default auto =
                       the cores this process may use; 1 = one process, no workers; env FULCRUM_WORKERS).
                       HAProxy ignores it (nbthread)
  --haproxy-bin PATH   haproxy executable for --engine haproxy (default haproxy on PATH, env FULCRUM_HAPROXY_BIN)
                       HAProxy's files live in STATE-DIR/haproxy (--config mode too: --state-dir DIR)
METRICS:
  --metrics-port PORT  serve Prometheus metrics at http://HOST:PORT/metrics (off unless given)
  --metrics-host HOST  address the metrics endpoint binds (default 127.0.0.1)`;

export interface MetricsConfig {
  host: string;
  port: number;
}

export const DEFAULT_STATS_BUFFER = 900;

export const ENGINE_NAMES = ["builtin", "haproxy"] as const;
export type EngineConfig =
  | { name: "builtin"; workers: number; stallMs: number }
  | { name: "haproxy"; bin: string; stateDir: string };

/** Default of --workers: every core the process may use, as nginx's `worker_processes auto`. */
export const DEFAULT_WORKERS = "auto";

/** Upper bound of --workers: far above any core count we expect, low enough to stop a typo (--workers 1000). */
export const MAX_WORKERS = 256;

/** Back-off of re-applying a snapshot refused for a transient reason (e.g. its port is taken). */
export interface ApplyRetryConfig {
  baseMs: number;
  capMs: number;
}

export type AgentConfig =
  | {
      mode: "console";
      consoleUrl: URL;
      /** --console-ca, read and checked here; undefined CA: Node's roots plus NODE_EXTRA_CA_CERTS. */
      consoleTls: ConsoleTls;
      token: string | undefined;
      stateDir: string;
      name: string;
      /** Stats points kept while the console is unreachable. */
      statsBuffer: number;
      /** Sampling interval (ms); 1000 unless FULCRUM_STATS_INTERVAL_MS says otherwise (tests). */
      statsIntervalMs: number;
      metrics: MetricsConfig | undefined;
      engine: EngineConfig;
      /** From FULCRUM_APPLY_RETRY_BASE_MS / FULCRUM_APPLY_RETRY_CAP_MS; undefined: 1 s up to 60 s. */
      applyRetry: ApplyRetryConfig | undefined;
    }
  | {
      mode: "file";
      configPath: string;
      name: string;
      metrics: MetricsConfig | undefined;
      engine: EngineConfig;
      applyRetry: ApplyRetryConfig | undefined;
    };

const engineArgs = z.object({
  engine: z.enum(ENGINE_NAMES, { error: "--engine must be builtin or haproxy" }),
  "haproxy-bin": z.string().min(1, "--haproxy-bin must not be empty"),
  workers: z
    .string()
    .regex(/^(\d+|auto)$/, "--workers must be a whole number or auto")
    .transform((v) => (v === "auto" ? String(Math.min(MAX_WORKERS, availableParallelism())) : v))
    .pipe(intArg("--workers", 1, MAX_WORKERS)),
});

const consoleUrl = z
  .string({ error: "--console is required (or set FULCRUM_CONSOLE_URL)" })
  .pipe(z.url({ protocol: /^https?$/, error: "--console must be an http:// or https:// URL" }));

const consoleArgs = z.object({
  console: consoleUrl,
  token: enrollRequestSchema.shape.token
    .optional()
    .refine((t) => t === undefined || t.trim() === t, "--token has leading or trailing whitespace"),
  "state-dir": z.string().min(1, "--state-dir must not be empty"),
  name: enrollRequestSchema.shape.name,
});

const fileArgs = z.object({
  config: z.string().min(1, "--config needs a file path"),
  name: enrollRequestSchema.shape.name,
});

function intArg(flag: string, min: number, max: number) {
  return z
    .string()
    .regex(/^\d+$/, `${flag} must be a whole number`)
    .transform(Number)
    .pipe(
      z.number().int().min(min, `${flag} must be at least ${min}`).max(max, `${flag} must be at most ${max}`),
    );
}

const metricsArgs = z.object({
  "metrics-port": intArg("--metrics-port", 1, 65535).optional(),
  "metrics-host": z.string().min(1, "--metrics-host must not be empty").optional(),
  "stats-buffer": intArg("--stats-buffer", 1, 86_400).optional(),
  statsIntervalMs: intArg("FULCRUM_STATS_INTERVAL_MS", 10, 60_000).optional(),
  applyRetryBaseMs: intArg("FULCRUM_APPLY_RETRY_BASE_MS", 10, 600_000).optional(),
  applyRetryCapMs: intArg("FULCRUM_APPLY_RETRY_CAP_MS", 10, 3_600_000).optional(),
  workerStallMs: intArg("FULCRUM_WORKER_STALL_MS", 100, 600_000).optional(),
});

/** A data-plane worker silent this long (no heartbeat: its event loop is stuck) is killed and restarted. */
export const DEFAULT_WORKER_STALL_MS = 5000;

function describe(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const flag = i.path[0] === undefined ? "" : `--${String(i.path[0])}: `;
      return /^(--|FULCRUM_)/.test(i.message) ? i.message : `${flag}${i.message}`;
    })
    .join("; ");
}

/** Parses once at start and fails with a message that says what to fix. */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): AgentConfig {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        console: { type: "string" },
        "console-ca": { type: "string" },
        "insecure-console-url": { type: "boolean" },
        token: { type: "string" },
        "state-dir": { type: "string" },
        name: { type: "string" },
        config: { type: "string" },
        "metrics-port": { type: "string" },
        "metrics-host": { type: "string" },
        "stats-buffer": { type: "string" },
        engine: { type: "string" },
        "haproxy-bin": { type: "string" },
        workers: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  if (values.help) throw new ConfigError("help requested");

  const m = metricsArgs.safeParse({
    "metrics-port": values["metrics-port"],
    "metrics-host": values["metrics-host"],
    "stats-buffer": values["stats-buffer"],
    statsIntervalMs: env.FULCRUM_STATS_INTERVAL_MS || undefined,
    applyRetryBaseMs: env.FULCRUM_APPLY_RETRY_BASE_MS || undefined,
    applyRetryCapMs: env.FULCRUM_APPLY_RETRY_CAP_MS || undefined,
    workerStallMs: env.FULCRUM_WORKER_STALL_MS || undefined,
  });
  if (!m.success) throw new ConfigError(describe(m.error));
  const { applyRetryBaseMs: base, applyRetryCapMs: cap } = m.data;
  if (base !== undefined && cap !== undefined && cap < base) {
    throw new ConfigError("FULCRUM_APPLY_RETRY_CAP_MS must be at least FULCRUM_APPLY_RETRY_BASE_MS");
  }
  const applyRetry =
    base === undefined && cap === undefined
      ? undefined
      : { baseMs: base ?? Math.min(1000, cap!), capMs: cap ?? Math.max(60_000, base!) };
  if (m.data["metrics-host"] !== undefined && m.data["metrics-port"] === undefined) {
    throw new ConfigError("--metrics-host needs --metrics-port");
  }
  const metrics =
    m.data["metrics-port"] === undefined
      ? undefined
      : { host: m.data["metrics-host"] ?? "127.0.0.1", port: m.data["metrics-port"] };

  const e = engineArgs.safeParse({
    engine: values.engine ?? (env.FULCRUM_ENGINE || "builtin"),
    "haproxy-bin": values["haproxy-bin"] ?? (env.FULCRUM_HAPROXY_BIN || "haproxy"),
    workers: values.workers ?? (env.FULCRUM_WORKERS || DEFAULT_WORKERS),
  });
  if (!e.success) throw new ConfigError(describe(e.error));
  if (values["haproxy-bin"] !== undefined && e.data.engine !== "haproxy") {
    throw new ConfigError("--haproxy-bin needs --engine haproxy");
  }
  const stateDir = resolve(String(values["state-dir"] ?? (env.FULCRUM_STATE_DIR || "./.fulcrum-agent")));
  const engine: EngineConfig =
    e.data.engine === "haproxy"
      ? { name: "haproxy", bin: e.data["haproxy-bin"], stateDir }
      : {
          name: "builtin",
          workers: e.data.workers,
          stallMs: m.data.workerStallMs ?? DEFAULT_WORKER_STALL_MS,
        };

  if (values.config !== undefined) {
    const stray = ["console", "console-ca", "insecure-console-url", "token", "stats-buffer"].filter(
      (k) => values[k] !== undefined,
    );
    if (stray.length > 0) {
      throw new ConfigError(`--config runs without a console; drop ${stray.map((k) => `--${k}`).join(", ")}`);
    }
    const parsed = fileArgs.safeParse({ config: values.config, name: values.name ?? hostname() });
    if (!parsed.success) throw new ConfigError(describe(parsed.error));
    return {
      mode: "file",
      configPath: resolve(parsed.data.config),
      name: parsed.data.name,
      metrics,
      engine,
      applyRetry,
    };
  }

  const parsed = consoleArgs.safeParse({
    console: values.console ?? env.FULCRUM_CONSOLE_URL,
    token: values.token ?? (env.FULCRUM_AGENT_TOKEN || undefined),
    "state-dir": values["state-dir"] ?? (env.FULCRUM_STATE_DIR || "./.fulcrum-agent"),
    name: values.name ?? hostname(),
  });
  if (!parsed.success) throw new ConfigError(describe(parsed.error));
  const url = new URL(parsed.data.console);
  const insecure = values["insecure-console-url"] === true || env.FULCRUM_INSECURE_CONSOLE_URL === "1";
  const caFile = values["console-ca"] ?? (env.FULCRUM_CONSOLE_CA || undefined);
  return {
    mode: "console",
    consoleUrl: url,
    consoleTls: consoleTls(url, insecure, caFile === undefined ? undefined : String(caFile)),
    token: parsed.data.token,
    stateDir: resolve(parsed.data["state-dir"]),
    name: parsed.data.name,
    statsBuffer: m.data["stats-buffer"] ?? DEFAULT_STATS_BUFFER,
    statsIntervalMs: m.data.statsIntervalMs ?? 1000,
    metrics,
    engine,
    applyRetry,
  };
}

/**
 * The console link carries the agent's credential and the listeners' private
 * keys: plain http is for a console on this machine, or an explicit opt-in
 * (as Consul's verify_outgoing or Teleport's --insecure); --console-ca only
 * means something for https.
 */
function consoleTls(url: URL, insecure: boolean, caFile: string | undefined): ConsoleTls {
  if (url.protocol === "http:") {
    if (caFile !== undefined) throw new ConfigError("--console-ca needs an https:// --console URL");
    if (!insecure && !isLoopbackHost(url.hostname)) {
      throw new ConfigError(
        `--console ${url.origin} is plain http to another host: the agent's credential and TLS keys would cross the network unencrypted. ` +
          'Put the console behind HTTPS (docs/operations.md, "Running the console behind HTTPS") and use https://, ' +
          "or pass --insecure-console-url to accept that",
      );
    }
  }
  if (caFile === undefined) return { ca: undefined, caFile: undefined };
  const file = resolve(caFile);
  return { ca: readConsoleCa(file), caFile: file };
}
