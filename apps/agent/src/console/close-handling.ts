import { CloseCode, closeCodeFacts } from "@fulcrum/protocol";

/*
 * How the agent acts on the console's close codes. The codes, what they mean
 * and whether the agent reconnects, backs off or stops are the protocol's
 * table (packages/protocol close-codes.ts); this file turns a "stop" into a
 * process exit code and reads the console's Retry-After.
 */

/** Process exit codes, so a supervisor can tell "fix me" from "crashed". */
export const EXIT_CONFIG = 2;
export const EXIT_REFUSED = 3;
export const EXIT_PROTOCOL = 4;

/** Why and how the agent exits after this close; undefined when it should reconnect (or back off). */
export function fatalClose(code: number): { exitCode: number; message: string } | undefined {
  const facts = closeCodeFacts(code);
  if (facts?.agent !== "stop") return undefined;
  return {
    exitCode: code === CloseCode.protocolUnsupported ? EXIT_PROTOCOL : EXIT_REFUSED,
    message: facts.meaning,
  };
}

/** Longest Retry-After believed (a console or proxy asking for more is capped). */
const MAX_RETRY_AFTER_MS = 3_600_000;

/** A Retry-After header in seconds (the form the console sends), in ms; undefined when absent or not seconds. */
export function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^[0-9]{1,7}$/.test(value.trim())) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Number(value.trim()) * 1000);
}
