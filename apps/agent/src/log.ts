import { escapeUnprintable } from "@fulcrum/protocol";
/**
 * One line per event on stderr, `key=value` pairs after the message, so the
 * output greps well under systemd/journald without a logging dependency.
 */
export type Fields = Record<string, string | number | boolean | undefined | null>;
export type Level = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must not reach a log line raw
const NEEDS_QUOTES = /[\s"=\\\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/**
 * Values come from snapshots, peers and errors: quoted (JSON escapes) when
 * they hold whitespace, quotes, `=` or any control character (bidi overrides
 * too), so a value can never end the line or forge another `key=value` or another event.
 */
const fmt = (v: Fields[string]) => {
  const s = String(v);
  return NEEDS_QUOTES.test(s) ? escapeUnprintable(JSON.stringify(s)) : s;
};

export function createLogger(min: Level = (process.env.FULCRUM_LOG_LEVEL as Level) || "info"): Logger {
  const line = (level: Level, msg: string, fields?: Fields) => {
    if (order[level] < (order[min] ?? 20)) return;
    let out = `${new Date().toISOString()} ${level.toUpperCase()} ${escapeUnprintable(msg)}`;
    if (fields) for (const [k, v] of Object.entries(fields)) if (v !== undefined) out += ` ${k}=${fmt(v)}`;
    process.stderr.write(`${out}\n`);
  };
  return {
    debug: (m, f) => line("debug", m, f),
    info: (m, f) => line("info", m, f),
    warn: (m, f) => line("warn", m, f),
    error: (m, f) => line("error", m, f),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
