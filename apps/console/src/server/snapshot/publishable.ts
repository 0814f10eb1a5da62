import { isPrintableText, type Snapshot, snapshotSchema } from "@fulcrum/protocol";
import type { z } from "zod";
import { SnapshotInvalidError } from "../errors";

/**
 * The last gate before a snapshot is published: it must pass the protocol's
 * snapshotSchema, the same check every agent makes, so the console never
 * publishes a version its agents would NACK as invalid. Input schemas catch
 * new bad values with per-field messages; this catches what they cannot see:
 * rows stored before the protocol's grammar was tightened, and old versions a
 * rollback restores. Failures name the object and field in words for people.
 */

/** Header fields the console itself fills in (a version, a sha256, a uuid, an ISO time); the body is what is judged. */
const HEADER = { version: 1, hash: "0".repeat(64), clusterId: "cluster", createdAt: "" } as const;

/** Throws SnapshotInvalidError when a compiled body is not one agents accept. */
export function assertPublishable(body: Pick<Snapshot, "listeners" | "pools">): void {
  const parsed = snapshotSchema.safeParse({ ...HEADER, ...body });
  if (!parsed.success) throw snapshotInvalid(body, parsed.error.issues);
}

/** A stored snapshot (an old version) parsed for restoring; `what` ("v3 cannot be restored") leads the message. */
export function parseStoredSnapshot(raw: unknown, what: string): Snapshot {
  const parsed = snapshotSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw snapshotInvalid(raw, parsed.error.issues, what);
}

type Issue = z.ZodError["issues"][number];

function snapshotInvalid(raw: unknown, issues: readonly Issue[], lead?: string): SnapshotInvalidError {
  const described = issues.map((issue) => describeIssue(raw, issue));
  const first = described[0]!;
  const others = described.slice(1);
  const listed = others.slice(0, 3).map((d) => d.what);
  if (others.length > 3) listed.push(`${others.length - 3} more`);
  const more = others.length > 0 ? ` Also not valid: ${listed.join("; ")}.` : "";
  const message = `${lead ? `${lead}: ` : ""}${first.sentence}${more} Agents would refuse this configuration, so nothing was changed.`;
  const fieldErrors: Record<string, string> = {};
  for (const d of described) fieldErrors[d.field] ??= d.sentence;
  return new SnapshotInvalidError(message, fieldErrors);
}

/** Fields by their path inside a pool, backend, listener or route. */
const FIELD_WORDS: Record<string, string> = {
  id: "id",
  name: "name",
  policy: "policy",
  policyOptions: "policy options",
  "policyOptions.keyName": "hash key name",
  "policyOptions.key": "hash key",
  healthCheck: "health check",
  "healthCheck.path": "health-check path",
  "healthCheck.expectBody": "health-check expected body",
  "healthCheck.grpcService": "gRPC health-check service",
  upstream: "upstream protocol settings",
  "upstream.protocol": "upstream protocol",
  "upstream.maxStreamsPerConnection": "streams per upstream connection",
  http2: "HTTP/2 settings",
  persistence: "session persistence",
  "persistence.cookieName": "sticky-session cookie name",
  address: "address",
  bindAddress: "bind address",
  publicBaseUrl: "public base URL",
  host: "host",
  pathPrefix: "path prefix",
  poolId: "pool",
  "redirect.loopGuard": "redirect loop-guard parameter",
};

interface DescribedIssue {
  /** The field inside its object ("healthCheck.path"), where a form shows it. */
  field: string;
  /** `pool web: health-check path "/a b"` */
  what: string;
  /** `pool web: health-check path "/a b" is not valid: <the protocol's rule>.` */
  sentence: string;
}

function describeIssue(raw: unknown, issue: Issue): DescribedIssue {
  const path = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p));
  const { object, rest } = objectOf(raw, path);
  const field = rest.map(String).join(".");
  const words = FIELD_WORDS[field] ?? (field || "value");
  const value = at(raw, path);
  const shown = typeof value === "string" || typeof value === "number" ? ` ${quote(value)}` : "";
  // The protocol's cross-checks prefix their own "pool <id>: "; the object is named here already.
  const rule = issue.message.replace(/^(pool|route) [^:]*: /, "").replace(/\.?$/, ".");
  const what = `${object}: ${words}${shown}`;
  return { field: field || "_", what, sentence: `${what} is not valid: ${rule}` };
}

/** Which pool, backend, listener or route an issue path points into, and the path inside it. */
function objectOf(
  raw: unknown,
  path: ReadonlyArray<string | number>,
): { object: string; rest: Array<string | number> } {
  const [list, i, sub, j, ...inner] = path;
  if (list === "pools" && typeof i === "number") {
    const pool = at(raw, ["pools", i]);
    const poolWords = `pool ${label(pool, "name") ?? `#${i + 1}`}`;
    if (sub === "backends" && typeof j === "number") {
      const b = at(pool, ["backends", j]);
      const named = label(b, "name");
      const where = `${label(b, "address") ?? "?"}:${label(b, "port") ?? "?"}`;
      return { object: `${poolWords}, backend ${named || where}`, rest: inner };
    }
    return { object: poolWords, rest: path.slice(2) };
  }
  if (list === "listeners" && typeof i === "number") {
    const listener = at(raw, ["listeners", i]);
    const listenerWords = `listener ${label(listener, "name") ?? `#${i + 1}`}`;
    if (sub === "routes" && typeof j === "number") {
      const r = at(listener, ["routes", j]);
      return {
        object: `${listenerWords}, route ${label(r, "host") || "*"}${label(r, "pathPrefix") ?? ""}`,
        rest: inner,
      };
    }
    return { object: listenerWords, rest: path.slice(2) };
  }
  return { object: "snapshot", rest: [...path] };
}

function at(v: unknown, path: ReadonlyArray<string | number>): unknown {
  let cur = v;
  for (const key of path) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return cur;
}

/** A short, printable rendering of a stored name or address (which may be the bad value itself). */
function label(v: unknown, key: string): string | undefined {
  const x = at(v, [key]);
  if (typeof x === "number") return String(x);
  if (typeof x !== "string") return undefined;
  return isPrintableText(x, 64) ? x : quote(x);
}

/** Quoted, with anything unprintable escaped as \uXXXX and long values cut, so the message is one safe line. */
function quote(v: string | number): string {
  if (typeof v === "number") return String(v);
  const cut = v.length > 64 ? `${v.slice(0, 64)}…` : v;
  let out = "";
  for (const ch of cut) {
    out +=
      isPrintableText(ch, 2) && ch !== '"' && ch !== "\\"
        ? ch
        : `\\u${(ch.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`;
  }
  return `"${out}"`;
}
