/**
 * WebSocket close codes the console uses to tell the agent to stop retrying.
 * Anything not listed here is treated as transient: reconnect with back-off.
 */
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_REVOKED = 4403;
export const CLOSE_PROTOCOL_UNSUPPORTED = 4426;

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
  return undefined;
}
