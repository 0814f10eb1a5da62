/**
 * What the proxy must know of gRPC (its HTTP/2 mapping, grpc/grpc
 * doc/PROTOCOL-HTTP2.md): which requests are gRPC, their deadline
 * (`grpc-timeout`), and the status codes it answers with when it answers
 * itself — HTTP 200 with `grpc-status`/`grpc-message`, never an HTML or
 * plain-text error, which gRPC clients would report as a protocol error.
 */

import { AgentError } from "../../errors";
import type { LocalReason } from "../http/local-reply";

export const GRPC_DEADLINE_EXCEEDED = 4;
export const GRPC_RESOURCE_EXHAUSTED = 8;
export const GRPC_UNIMPLEMENTED = 12;
export const GRPC_INTERNAL = 13;
export const GRPC_UNAVAILABLE = 14;

/** The request's grpc-timeout passed before the backend answered. */
export class GrpcDeadlineError extends AgentError {
  readonly code = "grpc_deadline_exceeded";
  constructor(ms: number) {
    super(`grpc-timeout of ${ms} ms passed before the backend answered`);
  }
}

/** application/grpc, application/grpc+proto, application/grpc-web... are all gRPC for answering. */
export function isGrpcContentType(v: unknown): boolean {
  return typeof v === "string" && v.toLowerCase().startsWith("application/grpc");
}

const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 };

/** grpc-timeout ("1-8 digits" + H|M|S|m|u|n) in ms, at least 1; undefined when absent or malformed. */
export function grpcTimeoutMs(v: unknown): number | undefined {
  if (typeof v !== "string") return undefined;
  const m = /^(\d{1,8})([HMSmun])$/.exec(v);
  if (m === null) return undefined;
  // Bounded by what setTimeout can hold (about 24.8 days).
  return Math.min(2_147_483_647, Math.max(1, Math.ceil(Number(m[1]) * UNIT_MS[m[2]!]!)));
}

/** The gRPC status for each answer the proxy makes itself. */
export function grpcStatusFor(reason: LocalReason): number {
  switch (reason) {
    case "no-route":
      return GRPC_UNIMPLEMENTED;
    case "queue-full":
    case "body-too-large":
    case "head-too-large":
      return GRPC_RESOURCE_EXHAUSTED;
    case "upstream-response-timeout":
    case "upstream-idle-timeout":
    case "grpc-deadline-exceeded":
    case "queue-timeout":
    case "body-timeout":
    case "head-timeout":
      return GRPC_DEADLINE_EXCEEDED;
    case "bad-request":
    case "unsupported-transfer-coding":
    case "body-too-slow":
    case "redirect-loop":
      return GRPC_INTERNAL;
    default:
      // no-backend, upstream-connect-failed, upstream-connect-timeout, upstream-error.
      return GRPC_UNAVAILABLE;
  }
}

/** grpc-message is percent-encoded (spaces and printable ASCII but '%' kept as they are). */
export function grpcMessage(text: string): string {
  return text
    .replace(/[^\x20-\x24\x26-\x7e]/g, (c) => encodeURIComponent(c))
    .replace(/%(?![0-9A-F]{2})/g, "%25");
}
