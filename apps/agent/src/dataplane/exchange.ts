/**
 * The seam between the front ends that speak to clients (HTTP listeners, TCP
 * listeners) and the pool runtime that chooses backends. Front ends know
 * framing and sockets; pools know policies, health, persistence, limits,
 * retries and statistics. Either side can be replaced without the other.
 */

import type { TlsOrigin } from "./pools/backend-tls";
import type { H2PoolUpstream } from "./upstream-h2/pool-upstream";

/** What a pool may look at to choose a backend. */
export interface RequestFacts {
  /** "" for TCP connections. */
  readonly method: string;
  /** Path without the query; "" for TCP. */
  readonly path: string;
  /** Normalized Host (lower case, no port); "" for TCP. */
  readonly host: string;
  readonly clientIp: string;
  /** First value of a request header, by lower-case name. */
  header(name: string): string | undefined;
  /** A request cookie's value. */
  cookie(name: string): string | undefined;
}

/** How an attempt on a backend ended; reported exactly once per lease. */
export type Outcome =
  /** The backend answered with a response head (any status). */
  | { readonly kind: "response"; readonly status: number; readonly latencyMs: number }
  /** No connection could be made (refused, unreachable, connect timeout): safe to retry elsewhere. */
  | { readonly kind: "connect-failed"; readonly error: Error }
  /** Connected, but the exchange failed before any response byte (reset, response timeout). */
  | { readonly kind: "failed-before-response"; readonly error: Error; readonly timeout: boolean }
  /** Failed after the response had started; the client connection is cut. */
  | { readonly kind: "failed-after-response"; readonly error: Error }
  /** The client went away; says nothing about the backend's health. */
  | { readonly kind: "client-aborted" };

export interface LeasedBackend {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  /** "address:port" ("[v6]:port"): per-backend state is keyed by it across snapshots. */
  readonly key: string;
  /** The pool's TLS to this backend; undefined: plain TCP. */
  readonly tls: TlsOrigin | undefined;
  /** Pooled upstream connections are kept by this: `key`, plus the TLS settings when there are any. */
  readonly connKey: string;
}

/** One attempt's hold on a backend: counts as in-flight until finished. */
export interface Lease {
  readonly backend: LeasedBackend;
  /** Headers the front end must add to the response, e.g. a sticky-session Set-Cookie. */
  readonly responseHeaders: ReadonlyArray<readonly [string, string]>;
  /** Reports the outcome (health, outlier detection, stats) and frees the backend's slot. Idempotent. */
  finish(outcome: Outcome, bytes?: { readonly fromClient: number; readonly toClient: number }): void;
}

export type AcquireResult =
  | { readonly ok: true; readonly lease: Lease }
  /** The answer for the client: 503 with `x-fulcrum-reason: <reason>`. */
  | { readonly ok: false; readonly reason: "no-backend" | "queue-full" | "queue-timeout" };

export interface PoolHandle {
  readonly id: string;
  readonly name: string;
  /**
   * Chooses a backend for one attempt. Resolves after a wait in the pool's
   * bounded queue when every eligible backend is at its connection limit.
   * `exclude` holds backend keys already tried by this request.
   */
  acquire(
    facts: RequestFacts,
    opts?: {
      readonly exclude?: ReadonlySet<string>;
      readonly signal?: AbortSignal;
      readonly routeId?: string;
    },
  ): Promise<AcquireResult>;
  /**
   * Synchronous fast path (saves a Promise per request): the result when no
   * wait is needed, or undefined — nothing chosen or counted — and the caller
   * uses acquire(), which may queue. Optional; front ends feature-detect it.
   */
  tryAcquire?(facts: RequestFacts, exclude?: ReadonlySet<string>): AcquireResult | undefined;
  /** Whether attempt number `attempt` (1 = first retry) is allowed by the pool's retry settings and budget. */
  mayRetry(attempt: number): boolean;
  /**
   * Set when the pool speaks HTTP/2 to its backends (upstream protocol h2 or h2c):
   * front ends forward through upstream-h2/forward.ts with it instead of HTTP/1.1.
   */
  readonly upstreamH2?: H2PoolUpstream | undefined;
}
