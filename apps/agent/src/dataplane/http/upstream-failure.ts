import { GrpcDeadlineError } from "../upstream-h2/grpc";
import { H2RequestHeaderError } from "../upstream-h2/translate";
import type { LocalReason } from "./local-reply";
import { UpstreamTimeoutError, UpstreamTlsError } from "./proxy-errors";

const CONNECT_FAILURES = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** Maps a backend-side failure to the status and reason the client sees. */
export function classifyUpstreamFailure(err: unknown): { status: 400 | 502 | 504; reason: LocalReason } {
  // The client's head could not be said in HTTP/2 to the backend: the client's fault.
  if (err instanceof H2RequestHeaderError) return { status: 400, reason: "bad-request" };
  if (err instanceof GrpcDeadlineError) return { status: 504, reason: "grpc-deadline-exceeded" };
  if (err instanceof UpstreamTimeoutError) {
    return { status: 504, reason: err.code.replaceAll("_", "-") as LocalReason };
  }
  // The TLS handshake is part of connecting: nothing was sent, another backend may be tried.
  if (err instanceof UpstreamTlsError) return { status: 502, reason: "upstream-connect-failed" };
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code && CONNECT_FAILURES.has(code)) return { status: 502, reason: "upstream-connect-failed" };
  return { status: 502, reason: "upstream-error" };
}
