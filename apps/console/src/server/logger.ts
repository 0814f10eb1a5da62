/** Structured one-line logs; `err` values are reduced to their message so lines stay readable. */
export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

function format(level: string, msg: string, fields?: Record<string, unknown>): string {
  const parts = [`[console] ${level} ${msg}`];
  for (const [k, v] of Object.entries(fields ?? {})) {
    const value = v instanceof Error ? v.message : typeof v === "string" ? v : JSON.stringify(v);
    parts.push(`${k}=${value}`);
  }
  return parts.join(" ");
}

export const consoleLogger: Logger = {
  info: (m, f) => console.log(format("info", m, f)),
  warn: (m, f) => console.warn(format("warn", m, f)),
  error: (m, f) => console.error(format("error", m, f)),
};
