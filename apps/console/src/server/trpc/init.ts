import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError } from "zod";
import type { Actor } from "../domain/actor";
import { translatePrismaError } from "../domain/prisma-errors";
import { isPrintable, NO_CONTROL_CHARACTERS } from "../domain/schemas";
import { AppError, InternalError, InvalidInputError, trpcCodeOf } from "../errors";
import { can, type Permission } from "../permissions";
import type { Context } from "./context";

/**
 * Every procedure declares who may call it: a permission from the table,
 * "authenticated" (any signed-in actor) or "public". The RBAC test reads this.
 */
export type Access = Permission | "authenticated" | "public";
export interface Meta {
  access: Access;
  /** Top-level input fields that may hold line breaks (PEM text); other control characters stay refused. */
  multiline?: readonly string[];
}

function fieldErrorsOf(err: unknown): Record<string, string> | undefined {
  if (err instanceof AppError) return err.fieldErrors;
  if (err instanceof ZodError) {
    const out: Record<string, string> = {};
    for (const issue of err.issues) {
      const key = issue.path.join(".") || "_";
      out[key] ??= issue.message;
    }
    return out;
  }
  return undefined;
}

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    transformer: superjson,
    // Live graphs stream over SSE; a ping keeps quiet streams open through proxies that cut idle connections.
    sse: { ping: { enabled: true, intervalMs: 15_000 } },
    errorFormatter({ shape, error, ctx }) {
      // An unexpected failure's message may be a driver's or a bug's words: clients get the request id instead.
      const cause =
        error.code === "INTERNAL_SERVER_ERROR" && !(error.cause instanceof AppError)
          ? new InternalError(ctx?.requestId ?? "unknown")
          : error.cause;
      const zodMessage = cause instanceof ZodError ? Object.values(fieldErrorsOf(cause) ?? {})[0] : undefined;
      return {
        ...shape,
        message: zodMessage
          ? `Please fix the form: ${zodMessage}`
          : cause instanceof AppError
            ? cause.message
            : shape.message,
        data: {
          ...shape.data,
          stack: undefined,
          appCode: cause instanceof AppError ? cause.code : null,
          fieldErrors: fieldErrorsOf(cause) ?? null,
        },
      };
    },
  });

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Domain errors, and the database errors a client can cause, become tRPC errors here, and only here. */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (result.ok) return result;
  const cause =
    result.error.cause instanceof AppError ? result.error.cause : translatePrismaError(result.error.cause);
  if (cause instanceof AppError) {
    throw new TRPCError({ code: trpcCodeOf[cause.code], message: cause.message, cause });
  }
  return result;
});

/** The path ("moves.3.name") of the first string in `input` that holds a control character, if any. */
function unprintableField(input: unknown, multiline: readonly string[] = []): string | undefined {
  const stack: Array<{ value: unknown; path: string[] }> = [{ value: input, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop() as { value: unknown; path: string[] };
    if (typeof value === "string") {
      const text = path.length === 1 && multiline.includes(path[0]!) ? value.replace(/\r?\n/g, "") : value;
      if (!isPrintable(text)) return path.join(".") || "_";
    } else if (value !== null && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) {
        if (!isPrintable(k)) return [...path, "_"].join(".");
        stack.push({ value: v, path: [...path, k] });
      }
    }
  }
  return undefined;
}

/**
 * No string in any input may hold a control character, whatever its own schema
 * says: nothing a person types has one, they can end a log line, and
 * PostgreSQL refuses NUL (which would otherwise surface as a 500).
 */
const refuseUnprintable = t.middleware(async ({ getRawInput, meta, next }) => {
  const field = unprintableField(await getRawInput(), meta?.multiline);
  if (field !== undefined) {
    throw new InvalidInputError(`${field === "_" ? "The input" : field}: ${NO_CONTROL_CHARACTERS}`, {
      [field]: NO_CONTROL_CHARACTERS,
    });
  }
  return next();
});

const authorize = t.middleware(({ ctx, meta, next }) => {
  const access = meta?.access;
  if (!access)
    throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "procedure declares no access" });
  if (access === "public") return next({ ctx: { ...ctx, actor: ctx.actor } });
  if (!ctx.actor) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first." });
  if (access !== "authenticated" && !can(ctx.actor.role, access)) {
    throw new TRPCError({ code: "FORBIDDEN", message: `Your role (${ctx.actor.role}) may not ${access}.` });
  }
  return next({ ctx: { ...ctx, actor: ctx.actor as Actor } });
});

export const publicProcedure = t.procedure
  .meta({ access: "public" })
  .use(mapErrors)
  .use(authorize)
  .use(refuseUnprintable);

/** A procedure callable by actors whose role grants `access`; `multiline` fields may hold line breaks. */
export function procedure(access: Exclude<Access, "public">, opts: { multiline?: readonly string[] } = {}) {
  return t.procedure
    .meta({ access, ...opts })
    .use(mapErrors)
    .use(authorize)
    .use(refuseUnprintable)
    .use(({ ctx, next }) => next({ ctx: { ...ctx, actor: ctx.actor as Actor } }));
}
