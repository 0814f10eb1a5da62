import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { grpcMessage, grpcStatusFor, isGrpcContentType } from "../upstream-h2/grpc";
import type { ClientRes } from "./client-side";

/**
 * Answers the proxy makes itself. `x-fulcrum-reason` lets operators tell them
 * from a backend's own 404/502/503 without reading logs.
 */
export type LocalReason =
  | "no-route"
  | "no-backend"
  | "queue-full"
  | "queue-timeout"
  | "upstream-connect-failed"
  | "upstream-error"
  | "upstream-connect-timeout"
  | "upstream-response-timeout"
  | "upstream-idle-timeout"
  /** A gRPC request's grpc-timeout passed before the backend answered (upstream-h2/grpc.ts). */
  | "grpc-deadline-exceeded"
  /** A redirect route's loop guard: the request was redirected once already. */
  | "redirect-loop"
  /** The client's request, refused before (or instead of) forwarding; the connection closes. */
  | "bad-request"
  | "unsupported-transfer-coding"
  | "head-timeout"
  | "head-too-large"
  | "body-too-large"
  | "body-timeout"
  | "body-too-slow";

/**
 * `close`: the request body was not read, so the connection cannot carry
 * another request (HTTP/1.1 only: HTTP/2 callers pass false, its streams end
 * alone). `fields`: the listener's own (Strict-Transport-Security).
 */
export function replyLocal(
  res: ClientRes,
  status: number,
  reason: LocalReason,
  text: string,
  close = false,
  fields: ReadonlyArray<readonly [string, string]> = [],
): void {
  if (res.headersSent) {
    // Too late for a status: cutting the connection is the only honest signal left.
    res.destroy();
    return;
  }
  // Read structurally: whichever response object a front end passes, its request says whether it is gRPC.
  const req = (res as { req?: { headers?: Record<string, unknown> } }).req;
  if (isGrpcContentType(req?.headers?.["content-type"])) {
    replyGrpc(res, grpcStatusFor(reason), text, reason);
    return;
  }
  const body = `${text}\n`;
  const headers = [
    "content-type",
    "text/plain; charset=utf-8",
    "content-length",
    String(Buffer.byteLength(body)),
    "cache-control",
    "no-store",
    "x-fulcrum-reason",
    reason,
  ];
  if (close) headers.push("connection", "close");
  for (const [name, value] of fields) headers.push(name, value);
  res.writeHead(status, headers);
  res.end(body);
}

/** Same, on a raw socket (upgrade requests have no ServerResponse). */
export function replyLocalRaw(socket: Duplex, status: number, reason: LocalReason): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nconnection: close\r\ncontent-length: 0\r\nx-fulcrum-reason: ${reason}\r\n\r\n`,
  );
  // end() flushes the reply; the timer covers a client that never closes its side.
  setTimeout(() => socket.destroy(), 1_000).unref();
}

/**
 * A gRPC client's answer: HTTP 200 and the status in trailers
 * (grpc-status, grpc-message), as gRPC servers answer errors; the head says
 * `x-fulcrum-reason` as always. Trailers, not the head: node ends a
 * response with a DATA frame, so a status in the head alone is not the
 * "trailers-only" form and gRPC clients would miss it.
 */
export function replyGrpc(
  res: {
    writeHead(status: number, headers: Record<string, string>): unknown;
    addTrailers?(trailers: Record<string, string>): void;
    end(): unknown;
  },
  code: number,
  text: string,
  reason: LocalReason,
): void {
  const status = { "grpc-status": String(code), "grpc-message": grpcMessage(text) };
  res.writeHead(200, { "content-type": "application/grpc", "x-fulcrum-reason": reason });
  res.addTrailers?.(status);
  res.end();
}
