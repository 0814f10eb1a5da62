/**
 * One attempt of a request on a backend, the h1 side of the exchange.ts seam:
 * lease a backend from the pool (synchronously when one is free), take a
 * pooled or new upstream connection, send the head and whatever body bytes
 * are already here; when the attempt fails, report the outcome and retry
 * where that is safe, else answer 502/504.
 */

import { performance } from "node:perf_hooks";
import { errorMessage } from "../../../errors";
import type { AcquireResult, Outcome } from "../../exchange";
import { UpstreamTimeoutError } from "../../http/proxy-errors";
import { classifyUpstreamFailure } from "../../http/upstream-failure";
import { writeNow } from "../../sockets/direct-write";
import { D_CONNECT, D_RESPONSE, R_HEAD, S_ACQUIRE, S_BODY, S_CLOSED, S_CONNECT, S_WAIT } from "./conn-states";
import type { ClientConn } from "./connection";
import { replyLocal } from "./local-answers";
import { expectsContinue, forwardBody, startBodyClock } from "./request-body";
import { BODY_NONE } from "./request-head";

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);

/** Asks the pool for a backend for the next attempt (the first, or a retry with `exclude` and `freshUpstream` set). */
export function acquire(c: ClientConn): void {
  c.state = S_ACQUIRE;
  const pool = c.pool!;
  if (pool.tryAcquire !== undefined) {
    // Usually a backend is free: no Promise, no microtask, no AbortSignal.
    const r = pool.tryAcquire(c.facts!, c.exclude);
    if (r !== undefined) {
      acquired(c, r);
      return;
    }
  }
  // One controller per client connection, aborted when the client leaves: a
  // request waiting in a pool's queue then gives up its place at once.
  c.clientGone ??= new AbortController();
  const signal = c.clientGone.signal;
  const opts =
    c.exclude === undefined
      ? { routeId: c.routeId, signal }
      : { routeId: c.routeId, exclude: c.exclude, signal };
  pool.acquire(c.facts!, opts).then(c.onAcquired, c.onAcquireError);
}

/** The pool's answer, at once or after a wait in its queue: the lease's upstream connection, or 503. */
export function acquired(c: ClientConn, r: AcquireResult): void {
  if (c.state !== S_ACQUIRE) {
    if (r.ok) r.lease.finish({ kind: "client-aborted" });
    return;
  }
  if (!r.ok) {
    if (c.lastError !== undefined) replyFailure(c, c.lastError, undefined);
    else replyLocal(c, 503, r.reason, "no backend available");
    return;
  }
  c.lease = r.lease;
  const b = r.lease.backend;
  const up = c.freshUpstream ? c.host.upstreams.open(b) : c.host.upstreams.take(b);
  c.up = up;
  up.owner = c;
  c.rstate = R_HEAD;
  c.respReader.reset();
  c.resp = undefined;
  c.respStarted = false;
  c.upBroken = false;
  if (up.connected) {
    send(c);
  } else {
    c.state = S_CONNECT;
    c.setDeadline(D_CONNECT, c.host.opts.timeouts.connectMs);
  }
}

/** The pool's acquire() threw: 503, logged (a bug in the pool, not the backend's failure). */
export function acquireFailed(c: ClientConn, e: unknown): void {
  if (c.state !== S_ACQUIRE) return;
  c.host.log.warn("pool acquire failed", { pool: c.pool?.name, error: errorMessage(e) });
  replyLocal(c, 503, "no-backend", "no backend available");
}

/** Head and whatever body bytes are already here go out in one write. */
export function send(c: ClientConn): void {
  const us = c.up!.socket;
  c.sentAt = performance.now();
  if (c.reqDone) {
    // The usual bodiless request: one write, no cork.
    c.state = S_WAIT;
    writeNow(us, c.upHead!);
  } else {
    c.state = S_BODY;
    c.bodyClockWaits = expectsContinue(c.req!);
    if (!c.bodyClockWaits) {
      startBodyClock(c);
      // Body bytes that came with the head (and go out inside it) count for the body's rate.
      c.bodyRead = c.headBodyBytes;
    }
    const p = c.pending;
    if (p !== undefined) {
      c.pending = undefined;
      forwardBody(c, p, true, c.upHead!);
    } else {
      writeNow(us, c.upHead!);
    }
  }
  if (c.state === S_WAIT && !c.respStarted) {
    c.setDeadline(D_RESPONSE, c.host.opts.timeouts.responseMs);
  }
  if (c.state === S_BODY && c.socket.isPaused()) c.socket.resume();
}

/**
 * The current attempt failed on the backend side. Before any response
 * byte: retry when allowed (a failed connect always may, nothing was sent;
 * otherwise only a bodiless idempotent request), else answer 502/504. After
 * the response head went out, cutting the client is the only honest signal.
 */
export function upstreamFailed(c: ClientConn, err: Error, connectFailed: boolean): void {
  const up = c.up;
  c.up = undefined;
  if (up !== undefined) {
    up.owner = undefined;
    up.destroy();
  }
  if (c.state === S_CLOSED) return;
  c.clearDeadline();
  const timeout = err instanceof UpstreamTimeoutError;
  let outcome: Outcome;
  let retry = false;
  if (connectFailed) {
    outcome = { kind: "connect-failed", error: err };
    retry = true;
  } else if (!c.respStarted) {
    outcome = { kind: "failed-before-response", error: err, timeout };
    retry = !timeout && c.req!.bodyKind === BODY_NONE && IDEMPOTENT.has(c.req!.method);
  } else {
    outcome = { kind: "failed-after-response", error: err };
  }
  c.finishLease(outcome);
  if (retry && !c.staleRetried && up?.reused === true && !connectFailed) {
    // A pooled socket the backend had closed says nothing against the backend: one free retry,
    // on a new connection, so a dead backend's other pooled sockets cannot be picked again.
    c.staleRetried = true;
    c.freshUpstream = true;
    c.lastError = err;
    acquire(c);
    return;
  }
  if (retry && c.pool!.mayRetry(++c.attempts)) {
    // Anything else moves on to another backend: this one is excluded for the rest of the request.
    if (up !== undefined) {
      c.exclude ??= new Set();
      c.exclude.add(up.key);
    }
    c.lastError = err;
    acquire(c);
    return;
  }
  if (c.headSent) {
    c.socket.destroy();
    return;
  }
  c.closeAfter ||= c.respStarted;
  replyFailure(c, err, up?.key);
}

function replyFailure(c: ClientConn, err: Error, upstream: string | undefined): void {
  const { status, reason } = classifyUpstreamFailure(err);
  c.host.log.warn("upstream request failed", {
    pool: c.pool?.name,
    upstream,
    reason,
    error: errorMessage(err),
  });
  replyLocal(c, status, reason, status === 504 ? "upstream timed out" : "upstream unreachable");
}
