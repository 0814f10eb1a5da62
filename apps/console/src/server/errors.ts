/**
 * One class per failure mode, each with a stable code. They are mapped to tRPC
 * and HTTP codes once, in `trpc/init.ts` and `http/respond.ts`.
 */
export type AppErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "INVALID_INPUT"
  | "SNAPSHOT_INVALID"
  | "SETUP_DONE"
  | "TOKEN_INVALID"
  | "PAYLOAD_TOO_LARGE"
  | "BATCH_TOO_LARGE"
  | "JSON_TOO_DEEP"
  | "TOO_MANY_ATTEMPTS"
  | "CROSS_ORIGIN"
  | "CERTIFICATE_PEM_INVALID"
  | "CERTIFICATE_KEY_MISMATCH"
  | "CERTIFICATE_CHAIN_BROKEN"
  | "CERTIFICATE_EXPIRED"
  | "CERTIFICATE_NOT_YET_VALID"
  | "CERTIFICATE_KEY_TYPE"
  | "CERTIFICATE_NAME_INVALID"
  | "CERTIFICATE_PKCS12_INVALID"
  | "CERTIFICATE_PKCS12_PASSWORD"
  | "ACME_CERTIFICATE_GONE"
  | "INTERNAL";

export abstract class AppError extends Error {
  abstract readonly code: AppErrorCode;
  /** Per-field messages a form can show next to its inputs. */
  readonly fieldErrors: Record<string, string> | undefined;
  constructor(message: string, fieldErrors?: Record<string, string>) {
    super(message);
    this.name = new.target.name;
    this.fieldErrors = fieldErrors;
  }
}

export class UnauthenticatedError extends AppError {
  readonly code = "UNAUTHENTICATED";
  constructor(message = "Sign in first.") {
    super(message);
  }
}

export class ForbiddenError extends AppError {
  readonly code = "FORBIDDEN";
}

export class NotFoundError extends AppError {
  readonly code = "NOT_FOUND";
  constructor(what: string, id?: string) {
    super(id ? `${what} ${id} does not exist.` : `${what} does not exist.`);
  }
}

/** A uniqueness or reference rule of the topology would be broken. */
export class ConflictError extends AppError {
  readonly code = "CONFLICT";
}

export class InvalidInputError extends AppError {
  readonly code = "INVALID_INPUT";
}

/**
 * The topology would compile to a snapshot agents refuse (the protocol's
 * snapshotSchema): a value stored before the protocol's grammar was tightened,
 * or an old version restored by a rollback. The message names the object and
 * the field to fix; nothing was written.
 */
export class SnapshotInvalidError extends AppError {
  readonly code = "SNAPSHOT_INVALID";
}

export class SetupDoneError extends AppError {
  readonly code = "SETUP_DONE";
  constructor() {
    super("Fulcrum already has an admin; sign in instead.");
  }
}

/** An enrollment token or agent credential that is unknown, expired, used up or revoked. */
export class TokenInvalidError extends AppError {
  readonly code = "TOKEN_INVALID";
}

/** A request body, a tRPC batch or a JSON nesting over the console's limits. */
export class PayloadTooLargeError extends AppError {
  readonly code = "PAYLOAD_TOO_LARGE";
}

/** A tRPC batch of more calls than FULCRUM_TRPC_MAX_BATCH. */
export class BatchTooLargeError extends AppError {
  readonly code = "BATCH_TOO_LARGE";
  constructor(calls: number, max: number) {
    super(`A batch may hold at most ${max} calls; this one has ${calls}.`);
  }
}

/** JSON nested deeper than FULCRUM_JSON_MAX_DEPTH: refused before it is parsed. */
export class JsonTooDeepError extends AppError {
  readonly code = "JSON_TOO_DEEP";
  constructor(max: number) {
    super(`The request's JSON nests deeper than ${max} levels.`);
  }
}

/** Too many failed sign-ins from one address (for one account, or for all together). */
export class TooManyAttemptsError extends AppError {
  readonly code = "TOO_MANY_ATTEMPTS";
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many failed sign-ins. Try again in ${retryAfterSeconds} s.`);
  }
}

/** A cookie-authenticated write that a page of another origin sent (CSRF). */
export class CrossOriginError extends AppError {
  readonly code = "CROSS_ORIGIN";
  constructor(sender: string, publicUrl: string) {
    super(
      `Refused a write from ${sender}: writes must come from the console's own pages at ${publicUrl} (FULCRUM_PUBLIC_URL).`,
    );
  }
}

/**
 * Anything unexpected (a bug, a database refusal): clients see only this and
 * the request id; the cause is in the log under the same id.
 */
export class InternalError extends AppError {
  readonly code = "INTERNAL";
  constructor(readonly requestId: string) {
    super(`Internal error; the console's log has the details under request id ${requestId}.`);
  }
}

export const httpStatusOf: Record<AppErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  INVALID_INPUT: 400,
  SNAPSHOT_INVALID: 422,
  SETUP_DONE: 409,
  TOKEN_INVALID: 401,
  PAYLOAD_TOO_LARGE: 413,
  BATCH_TOO_LARGE: 400,
  JSON_TOO_DEEP: 400,
  TOO_MANY_ATTEMPTS: 429,
  CROSS_ORIGIN: 403,
  CERTIFICATE_PEM_INVALID: 400,
  CERTIFICATE_KEY_MISMATCH: 400,
  CERTIFICATE_CHAIN_BROKEN: 400,
  CERTIFICATE_EXPIRED: 400,
  CERTIFICATE_NOT_YET_VALID: 400,
  CERTIFICATE_KEY_TYPE: 400,
  CERTIFICATE_NAME_INVALID: 400,
  CERTIFICATE_PKCS12_INVALID: 400,
  CERTIFICATE_PKCS12_PASSWORD: 400,
  ACME_CERTIFICATE_GONE: 409,
  INTERNAL: 500,
};

export const trpcCodeOf = {
  UNAUTHENTICATED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  INVALID_INPUT: "BAD_REQUEST",
  SNAPSHOT_INVALID: "UNPROCESSABLE_CONTENT",
  SETUP_DONE: "CONFLICT",
  TOKEN_INVALID: "UNAUTHORIZED",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  BATCH_TOO_LARGE: "BAD_REQUEST",
  JSON_TOO_DEEP: "BAD_REQUEST",
  TOO_MANY_ATTEMPTS: "TOO_MANY_REQUESTS",
  CROSS_ORIGIN: "FORBIDDEN",
  CERTIFICATE_PEM_INVALID: "BAD_REQUEST",
  CERTIFICATE_KEY_MISMATCH: "BAD_REQUEST",
  CERTIFICATE_CHAIN_BROKEN: "BAD_REQUEST",
  CERTIFICATE_EXPIRED: "BAD_REQUEST",
  CERTIFICATE_NOT_YET_VALID: "BAD_REQUEST",
  CERTIFICATE_KEY_TYPE: "BAD_REQUEST",
  CERTIFICATE_NAME_INVALID: "BAD_REQUEST",
  CERTIFICATE_PKCS12_INVALID: "BAD_REQUEST",
  CERTIFICATE_PKCS12_PASSWORD: "BAD_REQUEST",
  ACME_CERTIFICATE_GONE: "CONFLICT",
  INTERNAL: "INTERNAL_SERVER_ERROR",
} as const satisfies Record<AppErrorCode, string>;
