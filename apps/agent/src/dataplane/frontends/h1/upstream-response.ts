/**
 * The backend's response on its way to the client: the head parsed and
 * rewritten (interim responses passed through, a 101 turning the connection
 * into a tunnel), the body forwarded as bytes with its own framing, and the
 * end of the exchange: the outcome reported, the upstream connection pooled
 * or dropped.
 */

import { performance } from "node:perf_hooks";
import { UpstreamProtocolError } from "../../http/proxy-errors";
import { writeNow } from "../../sockets/direct-write";
import { countResponse } from "../../stats/counters";
import { upstreamFailed } from "./backend-attempt";
import { CHUNKED_ERROR } from "./chunked";
import { R_BODY, R_DONE, S_BODY, S_TUNNEL } from "./conn-states";
import type { ClientConn } from "./connection";
import { HEAD_INCOMPLETE } from "./head-reader";
import { clientResponseHead } from "./head-writer";
import { startBodyClock } from "./request-body";
import { BODY_CHUNKED, BODY_LENGTH, BODY_NONE, BODY_UNTIL_CLOSE } from "./request-head";
import { parseResponseHead } from "./response-head";

/** A response body up to this size that arrives with its head is copied into the head's Buffer: one write instead of two. */
const INLINE_BODY_MAX = 4096;

export function readResponseHead(c: ClientConn, chunk: Buffer): void {
  const end = c.respReader.push(chunk);
  if (end === HEAD_INCOMPLETE) return;
  const req = c.req!;
  const { buf, start } = c.respReader;
  const resp = end < 0 ? undefined : parseResponseHead(buf, start, end, req.method, c.up!.respFields);
  if (resp === undefined || (resp.status === 101 && !req.upgrade)) {
    upstreamFailed(c, new UpstreamProtocolError("malformed response head from upstream"), false);
    return;
  }
  if (resp.status < 200 && resp.status !== 101) {
    // The client waited for this to send its body: from now on it is on the clock.
    if (c.bodyClockWaits && c.state === S_BODY) startBodyClock(c);
    // Interim responses (100 Continue, 103 Early Hints) pass through to HTTP/1.1 clients as they are.
    if (req.minor === 1) {
      c.toClient += end - start;
      c.viewOut = true;
      c.socket.write(buf.subarray(start, end));
    }
    c.respReader.reset();
    if (end < buf.length) readResponseHead(c, buf.subarray(end));
    return;
  }
  c.latencyMs = performance.now() - c.sentAt;
  c.resp = resp;
  if (resp.status === 101) {
    startTunnel(c, buf.subarray(start, end), end < buf.length ? buf.subarray(end) : undefined);
    return;
  }
  // A response that arrives before the request body is complete ends the connection after it.
  if (resp.bodyKind === BODY_UNTIL_CLOSE || !c.reqDone) c.closeAfter = true;
  c.headSent = true;
  c.responded = true;
  countResponse(resp.status, c.lstats, c.rstats, c.pstats);
  const cs = c.socket;
  const len = resp.contentLength;
  if (
    resp.bodyKind === BODY_NONE ||
    (resp.bodyKind === BODY_LENGTH && len <= INLINE_BODY_MAX && buf.length - end >= len)
  ) {
    // No body, or a small one that came with the head: head and body leave in one Buffer, one write.
    const bodyEnd = resp.bodyKind === BODY_NONE ? end : end + len;
    const fields = c.host.opts.responseFields;
    const out = clientResponseHead(resp, c.lease!.responseHeaders, c.closeAfter, bodyEnd, fields);
    c.toClient += out.length;
    c.bodyOut += bodyEnd - end;
    if (bodyEnd < buf.length) c.upBroken = true;
    c.rstate = R_DONE;
    writeNow(cs, out);
    finishResponse(c);
    return;
  }
  const head = clientResponseHead(
    resp,
    c.lease!.responseHeaders,
    c.closeAfter,
    resp.end,
    c.host.opts.responseFields,
  );
  c.toClient += head.length;
  cs.cork();
  cs.write(head);
  c.rstate = R_BODY;
  c.respLeft = resp.contentLength;
  if (resp.bodyKind === BODY_CHUNKED) c.respChunks.reset();
  if (end < buf.length) forwardResponse(c, buf, end);
  cs.uncork();
}

export function forwardResponse(c: ClientConn, buf: Buffer, from: number): void {
  const kind = c.resp!.bodyKind;
  let end: number;
  let done = false;
  if (kind === BODY_LENGTH) {
    end = buf.length - from <= c.respLeft ? buf.length : from + c.respLeft;
    c.respLeft -= end - from;
    done = c.respLeft === 0;
  } else if (kind === BODY_CHUNKED) {
    const r = c.respChunks.scan(buf, from, buf.length);
    if (r === CHUNKED_ERROR) {
      upstreamFailed(c, new UpstreamProtocolError("malformed chunked body from upstream"), false);
      return;
    }
    done = r >= 0;
    end = done ? r : buf.length;
  } else {
    end = buf.length;
  }
  c.toClient += end - from;
  if (kind === BODY_CHUNKED) {
    c.bodyOut += c.respChunks.dataBytes;
    c.respChunks.dataBytes = 0;
  } else {
    c.bodyOut += end - from;
  }
  c.viewOut = true;
  const ok = writeNow(c.socket, from === 0 && end === buf.length ? buf : buf.subarray(from, end));
  if (done) {
    if (end < buf.length) c.upBroken = true;
    c.rstate = R_DONE;
    finishResponse(c);
  } else if (!ok) {
    c.up!.socket.pause();
  }
}

/** The response is complete: report, return or drop the upstream socket, go on with the client. */
export function finishResponse(c: ClientConn): void {
  const resp = c.resp!;
  const up = c.up!;
  c.up = undefined;
  up.owner = undefined;
  c.lease!.finish(
    { kind: "response", status: resp.status, latencyMs: c.latencyMs },
    { fromClient: c.fromClient, toClient: c.toClient },
  );
  c.lease = undefined;
  c.countDone();
  if (c.reqDone && !resp.close && !c.upBroken && c.req!.minor === 1 && !c.req!.upgrade) {
    c.host.upstreams.release(up);
  } else {
    up.destroy();
  }
  if (c.closeAfter || !c.reqDone || c.clientEnded)
    c.closeClient(c.req!.close && c.reqDone && c.pending === undefined);
  else c.nextRequest();
}

/** A 101: the head goes to the client, and from now on bytes flow both ways as they are. */
function startTunnel(c: ClientConn, head: Buffer, rest: Buffer | undefined): void {
  c.clearDeadline();
  c.responded = true;
  countResponse(101, c.lstats, c.rstats, c.pstats);
  c.state = S_TUNNEL;
  c.headSent = true;
  c.toClient += head.length;
  c.viewOut = true;
  c.socket.write(head);
  if (rest !== undefined) {
    c.toClient += rest.length;
    c.socket.write(rest);
  }
  if (c.pending !== undefined) {
    c.fromClient += c.pending.length;
    c.up!.socket.write(c.pending);
    c.pending = undefined;
  }
  if (c.socket.isPaused()) c.socket.resume();
}
