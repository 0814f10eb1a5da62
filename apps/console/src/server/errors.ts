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
  | "SETUP_DONE"
  | "TOKEN_INVALID";

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

export const httpStatusOf: Record<AppErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  INVALID_INPUT: 400,
  SETUP_DONE: 409,
  TOKEN_INVALID: 401,
};

export const trpcCodeOf = {
  UNAUTHENTICATED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  INVALID_INPUT: "BAD_REQUEST",
  SETUP_DONE: "CONFLICT",
  TOKEN_INVALID: "UNAUTHORIZED",
} as const satisfies Record<AppErrorCode, string>;
