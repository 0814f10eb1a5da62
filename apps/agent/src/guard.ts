import { errorCode, errorMessage } from "./errors";
import type { Logger } from "./log";

/**
 * Wraps a timer, event or promise callback so that a bug in it is logged and
 * stays with that one health check, listener or pool. Unwrapped, an exception
 * thrown in a timer or a promise rejection nobody handles ends the process,
 * and with it every listener the agent serves.
 */
export function guarded<A extends unknown[]>(
  log: Logger,
  what: string,
  fn: (...args: A) => unknown,
): (...args: A) => void {
  return (...args) => {
    try {
      const r = fn(...args);
      if (r instanceof Promise) r.catch((e) => contained(log, what, e));
    } catch (e) {
      contained(log, what, e);
    }
  };
}

/** Logs an error that was caught so it could not take the process down. */
export function contained(log: Logger, what: string, e: unknown): void {
  log.error("internal error contained; the agent keeps serving", {
    in: what,
    code: errorCode(e),
    error: errorMessage(e),
    at: e instanceof Error ? e.stack?.split("\n")[1]?.trim() : undefined,
  });
}
