/**
 * The answers a client connection gets from the proxy itself instead of a
 * backend: a local reply (no route, no backend, upstream failure), a redirect
 * route's 302/307, a plain listener's redirect to https or ACME token, a refused head, and a request aborted mid-body. Each counts
 * the response, then either waits for the next request or closes.
 */

import type { RedirectToHttps } from "@fulcrum/protocol";
import type { CompiledRoute } from "../../pools/route-table";
import { countResponse } from "../../stats/counters";
import { type AcmeTokens, acmeChallengeReply } from "../acme/challenge-answer";
import { httpsLocation, httpsRedirectResponse } from "../redirect/https-redirect";
import { decideRedirect, redirectResponse } from "../redirect/redirect";
import type { ClientConn } from "./connection";
import { type H1LocalReason, localReply, withListenerFields } from "./local-reply";
import type { Refusal } from "./refusal";
import type { RequestHead } from "./request-head";

/** The listener's own fields (HSTS on a TLS listener) go on the proxy's replies too. */
const ownReply = (c: ClientConn, reply: Buffer): Buffer =>
  withListenerFields(reply, c.host.opts.responseFields);

/** A reply of the proxy's own; an unread request body cannot be skipped safely without reading it, so close then. */
export function replyLocal(c: ClientConn, status: number, reason: H1LocalReason, text: string): void {
  const close = c.closeAfter || !c.reqDone || c.clientEnded;
  const buf = ownReply(c, localReply(status, reason, text, close));
  c.toClient += buf.length;
  c.responded = true;
  countResponse(status, c.lstats, c.rstats, c.pstats);
  c.countDone();
  c.socket.write(buf);
  if (close) c.closeClient();
  else c.nextRequest();
}

/** A redirect route: 302/307 to the chosen backend's public URL; the request body is not read, so close then. */
export function replyRedirect(c: ClientConn, route: CompiledRoute, req: RequestHead): void {
  const d = decideRedirect(route, req.target, c.facts!);
  if (d.kind === "local") {
    replyLocal(c, d.status, d.reason, d.text);
    return;
  }
  const close = c.closeAfter || !c.reqDone || c.clientEnded;
  const buf = ownReply(c, redirectResponse(d, close));
  c.toClient += buf.length;
  c.responded = true;
  countResponse(d.status, c.lstats, c.rstats, c.pstats);
  c.countDone();
  c.socket.write(buf);
  if (close) c.closeClient();
  else c.nextRequest();
}

/** An ACME HTTP-01 token the console asked every agent to serve (acme/challenge-answer.ts); false: not one. */
export function answerAcme(c: ClientConn, tokens: AcmeTokens, req: RequestHead): boolean {
  const close = c.closeAfter || !c.reqDone || c.clientEnded;
  const token = acmeChallengeReply(tokens, req.method, req.target, req.host, close);
  if (token === undefined) return false;
  const buf = ownReply(c, token);
  c.toClient += buf.length;
  c.responded = true;
  countResponse(200, c.lstats);
  c.countDone();
  c.socket.write(buf);
  if (close) c.closeClient();
  else c.nextRequest();
  return true;
}

/** A plain http listener that sends every client to https (redirect/https-redirect.ts). */
export function redirectToHttps(c: ClientConn, to: RedirectToHttps, req: RequestHead): void {
  const location = httpsLocation(req.host, req.target, to.port);
  if (location === undefined) {
    replyLocal(c, 400, "bad-request", "the Host header is not a host name or address");
    return;
  }
  const close = c.closeAfter || !c.reqDone || c.clientEnded;
  const buf = ownReply(c, httpsRedirectResponse(to.status, location, close));
  c.toClient += buf.length;
  c.responded = true;
  countResponse(to.status, c.lstats);
  c.countDone();
  c.socket.write(buf);
  if (close) c.closeClient();
  else c.nextRequest();
}

/** A malformed, oversized or too slow request head: answer and close without contacting any backend. */
export function refuse(c: ClientConn, r: Refusal): void {
  c.socket.pause();
  c.pending = undefined;
  c.reader.reset();
  if (c.lstats !== undefined) {
    c.lstats.requests++;
    countResponse(r.status, c.lstats);
  }
  c.socket.write(ownReply(c, localReply(r.status, r.reason, r.text, true)));
  c.closeClient();
}

/**
 * The client broke its own framing mid-body, or its body is too large or
 * too slow: the backend's half a request is cut with its connection; the
 * client gets the answer, or a cut connection once a response went out.
 */
export function abortRequest(c: ClientConn, r: Refusal): void {
  c.finishLease({ kind: "client-aborted" });
  const up = c.up;
  c.up = undefined;
  if (up !== undefined) {
    up.owner = undefined;
    up.destroy();
  }
  if (c.headSent) {
    c.socket.destroy();
    return;
  }
  c.socket.pause();
  c.pending = undefined;
  c.reqDone = false;
  replyLocal(c, r.status, r.reason, r.text);
}
