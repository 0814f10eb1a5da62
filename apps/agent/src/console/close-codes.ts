/**
 * WebSocket close codes the console uses to tell the agent to stop retrying
 * (FATAL below) or to slow down (CLOSE_RATE_LIMITED). Anything else is treated
 * as transient: reconnect with back-off. Kept in step with the console's
 * apps/console/src/server/gateway/close-codes.ts.
 */
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_REVOKED = 4403;
export const CLOSE_PROTOCOL_UNSUPPORTED = 4426;
/** The agent sent more than the console allows; the console refuses reconnects for a while (HTTP 429). */
export const CLOSE_RATE_LIMITED = 4429;

/** Process exit codes, so a supervisor can tell "fix me" from "crashed". */
export const EXIT_CONFIG = 2;
export const EXIT_REFUSED = 3;
export const EXIT_PROTOCOL = 4;

const FATAL: ReadonlyMap<number, { exitCode: number; message: string }> = new Map([
  [
    CLOSE_UNAUTHORIZED,
    { exitCode: EXIT_REFUSED, message: "the console does not accept this agent's credential" },
  ],
  [CLOSE_REVOKED, { exitCode: EXIT_REFUSED, message: "the console has revoked this agent" }],
  [
    CLOSE_PROTOCOL_UNSUPPORTED,
    {
      exitCode: EXIT_PROTOCOL,
      message: "the console does not speak this agent's protocol version; upgrade the agent",
    },
  ],
]);

export const fatalClose = (code: number) => FATAL.get(code);

/** Some consoles (or proxies in front) refuse before the upgrade with a plain HTTP status. */
export function closeCodeForHttpStatus(status: number | undefined): number | undefined {
  if (status === 401) return CLOSE_UNAUTHORIZED;
  if (status === 403) return CLOSE_REVOKED;
  if (status === 426) return CLOSE_PROTOCOL_UNSUPPORTED;
  if (status === 429) return CLOSE_RATE_LIMITED;
  return undefined;
}

/** Longest Retry-After believed (a console or proxy asking for more is capped). */
const MAX_RETRY_AFTER_MS = 3_600_000;

/** A Retry-After header in seconds (the form the console sends), in ms; undefined when absent or not seconds. */
export function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^[0-9]{1,7}$/.test(value.trim())) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Number(value.trim()) * 1000);
}
