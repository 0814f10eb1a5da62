/**
 * The request body on its way to the backend: forwarded as the client's own
 * bytes, counted (Content-Length) or followed chunk by chunk to find where the
 * message ends, limited by maxBodyBytes, and paced: a body that pauses too
 * long or trickles below minBodyBytesPerSecond ends the request.
 */

import { BODY_CHECK_MS, BODY_RATE_GRACE_MS } from "../../http/body-pacer";
import { writeNow } from "../../sockets/direct-write";
import { CHUNKED_ERROR } from "./chunked";
import { D_BODY, D_RESPONSE, S_BODY, S_WAIT } from "./conn-states";
import type { ClientConn } from "./connection";
import { abortRequest } from "./local-answers";
import { BODY_TIMEOUT, BODY_TOO_LARGE, BODY_TOO_SLOW, MALFORMED_BODY } from "./refusal";
import { BODY_LENGTH, type RequestHead } from "./request-head";
import { own } from "./shared-read";

/**
 * Forwards request body bytes as they are, counting or following chunks to find the message's end.
 * `head`: the upstream request head not sent yet; it and these bytes leave in one write (a body that
 * came with its head costs one syscall and no cork/writev through the Writable stream). A refused
 * body then leaves nothing upstream: the connection is dropped unused.
 */
export function forwardBody(c: ClientConn, chunk: Buffer, owned: boolean, head?: Buffer): void {
  const req = c.req!;
  if (c.bodyClockWaits) startBodyClock(c);
  c.bodyRead += chunk.length;
  c.bodyReadSinceCheck = true;
  let end: number;
  let done: boolean;
  if (req.bodyKind === BODY_LENGTH) {
    end = Math.min(chunk.length, c.reqLeft);
    c.reqLeft -= end;
    done = c.reqLeft === 0;
  } else {
    const r = c.reqChunks.scan(chunk, 0, chunk.length);
    if (r === CHUNKED_ERROR) {
      // Malformed chunked body from the client: part of it may be upstream already, so both go.
      abortRequest(c, MALFORMED_BODY);
      return;
    }
    done = r >= 0;
    end = done ? r : chunk.length;
  }
  c.fromClient += end;
  if (req.bodyKind === BODY_LENGTH) c.bodyIn += end;
  else {
    c.bodyIn += c.reqChunks.dataBytes;
    c.reqChunks.dataBytes = 0;
    const max = c.host.opts.maxBodyBytes;
    if (max > 0 && c.bodyIn > max) {
      // Crossed mid-body: these bytes stay here, the backend's half a body is cut with its connection.
      abortRequest(c, BODY_TOO_LARGE);
      return;
    }
  }
  const us = c.up!.socket;
  const body = end === chunk.length ? chunk : chunk.subarray(0, end);
  let ok: boolean;
  if (head !== undefined) ok = writeNow(us, end > 0 ? Buffer.concat([head, body], head.length + end) : head);
  else ok = end > 0 ? writeNow(us, own(body, owned)) : true;
  if (done) {
    c.reqDone = true;
    if (end < chunk.length) {
      c.pending = own(chunk.subarray(end), owned);
      c.socket.pause();
    }
    if (c.state === S_BODY) c.state = S_WAIT;
    if (!c.respStarted) c.setDeadline(D_RESPONSE, c.host.opts.timeouts.responseMs);
  } else if (!ok) {
    c.socket.pause();
  }
}

/** The request body's pause and rate clock starts (once the backend can take it, or asked for it). */
export function startBodyClock(c: ClientConn): void {
  c.bodyClockWaits = false;
  const now = Date.now();
  c.bodyStartAt = now;
  c.bodyCheckedAt = now;
  c.bodyLastReadAt = now;
  c.bodyRead = 0;
  c.bodyReadSinceCheck = false;
  c.setDeadline(D_BODY, Math.min(c.host.opts.timeouts.bodyMs, BODY_CHECK_MS));
}

/**
 * The body deadline: a pause longer than bodyMs since the last read, or a
 * rate below minBodyBytesPerSecond after the grace period, ends the request
 * (408, or a cut connection once the response started). Time this proxy
 * held the client paused (a slow backend) counts for neither.
 */
export function checkBody(c: ClientConn): void {
  if (c.state !== S_BODY) return;
  const o = c.host.opts;
  const now = Date.now();
  if (c.socket.isPaused()) {
    c.bodyStartAt += now - c.bodyCheckedAt;
    c.bodyLastReadAt = now;
  } else if (c.bodyReadSinceCheck) {
    c.bodyLastReadAt = now;
  } else if (now - c.bodyLastReadAt >= o.timeouts.bodyMs) {
    abortRequest(c, BODY_TIMEOUT);
    return;
  }
  c.bodyReadSinceCheck = false;
  c.bodyCheckedAt = now;
  const elapsed = now - c.bodyStartAt;
  const min = o.minBodyBytesPerSecond;
  if (min > 0 && elapsed >= BODY_RATE_GRACE_MS && c.bodyRead * 1000 < min * elapsed) {
    abortRequest(c, BODY_TOO_SLOW);
    return;
  }
  c.setDeadline(D_BODY, Math.min(o.timeouts.bodyMs, BODY_CHECK_MS));
}

/** "Expect: 100-continue" (RFC 9110 §10.1.1): the client sends its body after an interim response. */
export function expectsContinue(req: RequestHead): boolean {
  const v = req.fields.find("expect");
  return v !== undefined && v.toLowerCase() === "100-continue";
}
