import { escapeUnprintable } from "@fulcrum/protocol";

/** Structured one-line logs; `err` values are reduced to their message so lines stay readable. */
export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/**
 * One log line. Values come from agents, CAs (ACME problem texts) and errors:
 * every string goes through escapeUnprintable (the agent's log.ts and the
 * gateway's logSafe use the same), so CR, LF, NUL or ESC can neither end the
 * line (a forged entry) nor reach a terminal as a control sequence.
 */
export function formatLogLine(level: string, msg: string, fields?: Record<string, unknown>): string {
  const parts = [`[console] ${level} ${escapeUnprintable(msg)}`];
  for (const [k, v] of Object.entries(fields ?? {})) {
    const value = v instanceof Error ? v.message : typeof v === "string" ? v : JSON.stringify(v);
    parts.push(`${escapeUnprintable(k)}=${escapeUnprintable(String(value))}`);
  }
  return parts.join(" ");
}

export const consoleLogger: Logger = {
  info: (m, f) => console.log(formatLogLine("info", m, f)),
  warn: (m, f) => console.warn(formatLogLine("warn", m, f)),
  error: (m, f) => console.error(formatLogLine("error", m, f)),
};
