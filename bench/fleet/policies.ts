import { backoffDelay, DEFAULT_BACKOFF } from "@fulcrum/agent/internals";
import type { RetryPolicy } from "./sim-agent.ts";

/** The real agent's reconnect delay: full jitter, base 500 ms, cap 30 s. */
export const realBackoff: RetryPolicy = (attempt) => backoffDelay(attempt, DEFAULT_BACKOFF);

/** The variant without jitter: every agent retries after the same fixed delay. */
export const fixedDelay =
  (ms: number): RetryPolicy =>
  () =>
    ms;

export const BACKOFF_DESCRIPTION = `full jitter, uniform in [0, min(${DEFAULT_BACKOFF.capMs} ms, ${DEFAULT_BACKOFF.baseMs} ms·2^attempt)]`;
export const FIXED_DELAY_MS = DEFAULT_BACKOFF.baseMs;
