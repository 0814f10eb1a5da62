import type { H1LocalReason } from "./local-reply";

/**
 * Why a request is answered by the proxy itself and its connection closed,
 * before (or instead of) any backend seeing the rest: one instance per failure
 * mode, each with a stable `x-fulcrum-reason`.
 */
export class Refusal {
  constructor(
    readonly status: number,
    readonly reason: H1LocalReason,
    readonly text: string,
  ) {}
}

export const MALFORMED = new Refusal(400, "bad-request", "malformed request");
/** A transfer coding other than chunked (nginx answers the same): forwarding it would leave the backend to decode it. */
export const UNSUPPORTED_CODING = new Refusal(
  501,
  "unsupported-transfer-coding",
  "only chunked transfer coding is supported",
);
export const HEAD_TOO_LARGE_REFUSAL = new Refusal(431, "head-too-large", "request head too large");
export const HEAD_TIMEOUT = new Refusal(408, "head-timeout", "request head not received in time");
export const BODY_TIMEOUT = new Refusal(408, "body-timeout", "request body not received in time");
export const BODY_TOO_SLOW = new Refusal(408, "body-too-slow", "request body slower than the minimum rate");
export const BODY_TOO_LARGE = new Refusal(413, "body-too-large", "request body too large");
export const MALFORMED_BODY = new Refusal(400, "bad-request", "malformed request body");
