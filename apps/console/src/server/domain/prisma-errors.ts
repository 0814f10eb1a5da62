import { ConflictError, InvalidInputError } from "../errors";

/** Friendly words for the database's unique constraints, keyed by the columns they cover. */
const UNIQUE_MESSAGES: Array<{ fields: string[]; field: string; message: string }> = [
  {
    fields: ["clusterId", "bindAddress", "port"],
    field: "port",
    message: "Another listener already uses this address and port.",
  },
  { fields: ["clusterId", "name"], field: "name", message: "That name is already taken in this cluster." },
  {
    fields: ["poolId", "address", "port"],
    field: "address",
    message: "This pool already has a backend at that address and port.",
  },
  {
    fields: ["listenerId", "host", "pathPrefix"],
    field: "pathPrefix",
    message: "This listener already has a route for that host and path.",
  },
  { fields: ["email"], field: "email", message: "A user with that email already exists." },
  { fields: ["name"], field: "name", message: "That name is already taken." },
];

interface PrismaLikeError {
  code?: string;
  meta?: {
    target?: unknown;
    driverAdapterError?: {
      cause?: {
        table?: string;
        constraint?: { fields?: string[]; index?: string };
        /** The SQLSTATE, when the driver reports one. */
        originalCode?: string;
      };
    };
  };
}

/**
 * The columns a unique violation names. Drivers differ: PGlite reports the
 * fields, node-postgres only the index, named by Prisma `<table>_<col>_<col>_key`
 * (our columns are camelCase, so `_` separates them).
 */
function violatedFields(e: PrismaLikeError): string[] {
  if (Array.isArray(e.meta?.target)) return e.meta.target.map(String);
  const cause = e.meta?.driverAdapterError?.cause;
  if (cause?.constraint?.fields) return cause.constraint.fields.map((f) => f.replaceAll('"', ""));
  const index = cause?.constraint?.index;
  if (index && cause?.table && index.startsWith(`${cause.table}_`) && index.endsWith("_key")) {
    return index.slice(cause.table.length + 1, -"_key".length).split("_");
  }
  return [];
}

/**
 * Turns the database errors a client can cause into AppErrors with messages
 * for people: unique and reference violations become ConflictErrors, and the
 * "data exception" class (SQLSTATE 22xxx: a NUL byte, a number out of range)
 * an InvalidInputError. The driver's own text is never passed on; anything
 * else is returned as it is, to be logged and hidden as an internal error.
 */
export function translatePrismaError(err: unknown): unknown {
  const e = err as PrismaLikeError;
  if (e?.meta?.driverAdapterError?.cause?.originalCode?.startsWith("22")) {
    return new InvalidInputError(
      "The database refused a value: a number out of range or a character it cannot store (such as NUL).",
    );
  }
  if (e?.code === "P2002") {
    const fields = violatedFields(e);
    const known = UNIQUE_MESSAGES.find(
      (u) => u.fields.length === fields.length && u.fields.every((f) => fields.includes(f)),
    );
    if (known) return new ConflictError(known.message, { [known.field]: known.message });
    return new ConflictError("That would duplicate something that must be unique.");
  }
  if (e?.code === "P2003") {
    return new ConflictError(
      "That is still referenced by something else (for example a route uses this pool).",
    );
  }
  return err;
}
