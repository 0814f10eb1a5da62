import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError } from "zod";
import type { Actor } from "../domain/actor";
import { AppError, trpcCodeOf } from "../errors";
import { can, type Permission } from "../permissions";
import type { Context } from "./context";

/**
 * Every procedure declares who may call it: a permission from the table,
 * "authenticated" (any signed-in actor) or "public". The RBAC test reads this.
 */
export type Access = Permission | "authenticated" | "public";
export interface Meta {
  access: Access;
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
    errorFormatter({ shape, error }) {
      const cause = error.cause;
      const zodMessage = cause instanceof ZodError ? Object.values(fieldErrorsOf(cause) ?? {})[0] : undefined;
      return {
        ...shape,
        message: zodMessage ? `Please fix the form: ${zodMessage}` : shape.message,
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

/** Domain errors become tRPC errors here, and only here. */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof AppError) {
    const cause = result.error.cause;
    throw new TRPCError({ code: trpcCodeOf[cause.code], message: cause.message, cause });
  }
  return result;
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

export const publicProcedure = t.procedure.meta({ access: "public" }).use(mapErrors).use(authorize);

/** A procedure callable by actors whose role grants `access`. */
export function procedure(access: Exclude<Access, "public">) {
  return t.procedure
    .meta({ access })
    .use(mapErrors)
    .use(authorize)
    .use(({ ctx, next }) => next({ ctx: { ...ctx, actor: ctx.actor as Actor } }));
}
