/**
 * A request head from the client, from its bytes to a decision: refused
 * (malformed, too large), answered locally (body too large, no route, a
 * redirect route) or routed to a pool, with the head to send upstream built
 * and the first attempt started.
 */

import { normalizeHost } from "../../pools/route-table";
import type { TrafficCounters } from "../../stats/counters";
import { acquire } from "./backend-attempt";
import { D_HEAD, D_KEEPALIVE, S_ACQUIRE } from "./conn-states";
import type { ClientConn } from "./connection";
import { H1Facts } from "./facts";
import { bridgeToNodeHttp } from "./h2-bridge";
import { HEAD_INCOMPLETE, HEAD_TOO_LARGE } from "./head-reader";
import { upstreamRequestHead } from "./head-writer";
import { answerAcme, redirectToHttps, refuse, replyLocal, replyRedirect } from "./local-answers";
import { BODY_TOO_LARGE, HEAD_TOO_LARGE_REFUSAL, MALFORMED, Refusal } from "./refusal";
import { BODY_CHUNKED, BODY_LENGTH, BODY_NONE, parseRequestHead, type RequestHead } from "./request-head";
import { own } from "./shared-read";

/** Client bytes while a head is awaited; `owned` false: a view of the shared read buffer, valid only during this call. */
export function readHead(c: ClientConn, chunk: Buffer, owned: boolean): void {
  if (c.dkind === D_KEEPALIVE) c.setDeadline(D_HEAD, c.host.opts.timeouts.headMs);
  const end = c.reader.push(chunk, owned);
  if (end === HEAD_INCOMPLETE) return;
  if (end < 0) {
    refuse(c, end === HEAD_TOO_LARGE ? HEAD_TOO_LARGE_REFUSAL : MALFORMED);
    return;
  }
  const { buf, start } = c.reader;
  // A head in the shared read buffer is copied (a few hundred bytes): its
  // fields are read later, by policies and retries, as offsets into it.
  const kept = owned || buf !== chunk;
  const req = kept
    ? parseRequestHead(buf, start, end)
    : parseRequestHead(Buffer.from(buf.subarray(start, end)), 0, end - start);
  if (req instanceof Refusal) {
    refuse(c, req);
    return;
  }
  let body: Buffer | undefined;
  c.pending = undefined;
  if (end < buf.length) {
    const rest = buf.subarray(end);
    if (!kept && req.bodyKind === BODY_LENGTH && req.contentLength > 0) {
      // Body bytes in the shared read buffer go upstream inside the head's Buffer: copied once, not
      // first out of the read buffer and then again behind the head. Only bytes past the body (a
      // pipelined request) are kept. A local answer to this request closes the connection (its body
      // is not read), so nothing else needs them.
      const n = Math.min(rest.length, req.contentLength);
      body = rest.subarray(0, n);
      if (n < rest.length) c.pending = Buffer.from(rest.subarray(n));
    } else {
      c.pending = own(rest, kept);
    }
  }
  beginRequest(c, req, body);
}

/**
 * A parsed head: the exchange's state is reset, then the request is routed and its first attempt started.
 * `body`: the first Content-Length body bytes, a view valid only during this call.
 */
function beginRequest(c: ClientConn, req: RequestHead, body: Buffer | undefined): void {
  c.clearDeadline();
  c.req = req;
  c.state = S_ACQUIRE;
  c.fromClient = req.end - req.start;
  c.toClient = 0;
  c.reqDone = req.bodyKind === BODY_NONE;
  c.reqLeft = req.contentLength;
  if (req.bodyKind === BODY_CHUNKED) c.reqChunks.reset();
  c.closeAfter = req.close || c.host.draining || req.upgrade;
  c.responded = false;
  c.rstats = undefined;
  c.pstats = undefined;
  if (c.lstats !== undefined) c.lstats.requests++;
  c.attempts = 0;
  c.exclude = undefined;
  c.staleRetried = false;
  c.freshUpstream = false;
  c.lastError = undefined;
  const maxBody = c.host.opts.maxBodyBytes;
  if (maxBody > 0 && req.bodyKind === BODY_LENGTH && req.contentLength > maxBody) {
    // Known from the head: refused before any backend is chosen (the body is not read: close).
    replyLocal(c, BODY_TOO_LARGE.status, BODY_TOO_LARGE.reason, BODY_TOO_LARGE.text);
    return;
  }
  const acme = c.host.opts.acmeTokens;
  if (acme !== undefined && answerAcme(c, acme, req)) return;
  const toHttps = c.host.opts.redirectToHttps;
  if (toHttps) {
    redirectToHttps(c, toHttps, req);
    return;
  }
  const q = req.target.indexOf("?");
  const path = q === -1 ? req.target : req.target.slice(0, q);
  const host = normalizeHost(req.host);
  const route = c.host.table.match(host, path);
  if (route === undefined) {
    replyLocal(c, 404, "no-route", "no route for this host and path");
    return;
  }
  c.pool = route.pool;
  c.routeId = route.id;
  c.rstats = route.stats;
  c.pstats = (route.pool as { counters?: TrafficCounters }).counters;
  if (c.rstats !== undefined) c.rstats.requests++;
  if (c.pstats !== undefined) c.pstats.requests++;
  c.facts = new H1Facts(req.method, path, host, c.clientIp, req);
  if (route.action === "redirect") {
    replyRedirect(c, route, req);
    return;
  }
  if (route.pool.upstreamH2 !== undefined) {
    // The node:http front end reads the body from the connection's pending bytes: they must be ours.
    if (body !== undefined)
      c.pending = c.pending === undefined ? Buffer.from(body) : Buffer.concat([body, c.pending]);
    bridgeToNodeHttp(c);
    return;
  }
  c.upHead = upstreamRequestHead(
    req,
    {
      clientIp: c.clientIp,
      proto: c.host.opts.proto,
      lines: c.fwdLines,
      trustForwarded: c.host.opts.trustForwarded,
    },
    body,
  );
  c.headBodyBytes = 0;
  if (body !== undefined) {
    // What forwardBody() would have counted for these bytes.
    c.headBodyBytes = body.length;
    c.fromClient += body.length;
    c.bodyIn += body.length;
    c.reqLeft -= body.length;
    c.reqDone = c.reqLeft === 0;
  }
  acquire(c);
}
