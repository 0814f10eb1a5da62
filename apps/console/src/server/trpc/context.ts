import type { IncomingHttpHeaders } from "node:http";
import { z } from "zod";
import type { Actor } from "../domain/actor";
import { API_TOKEN_PREFIX, authenticateApiToken } from "../domain/api-tokens";
import { ROLES } from "../permissions";
import type { Services } from "../services";

export interface Context {
  services: Services;
  actor: Actor | null;
  /** Set when the actor signed in with a cookie session (not an API token). */
  sessionId: string | null;
  /** Names the request in the log; an unexpected error shows clients this instead of its cause. */
  requestId?: string;
}

export function toHeaders(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [k, v] of Object.entries(raw)) {
    if (Array.isArray(v)) for (const item of v) headers.append(k, item);
    else if (v !== undefined) headers.set(k, v);
  }
  return headers;
}

const roleSchema = z.enum(ROLES);

/** Who is calling: an API token in `Authorization: Bearer fk_…`, else the session cookie, else nobody. */
export async function resolveActor(
  services: Services,
  headers: Headers,
): Promise<{ actor: Actor | null; sessionId: string | null }> {
  const bearer = /^Bearer\s+(\S+)$/i.exec(headers.get("authorization") ?? "")?.[1];
  if (bearer?.startsWith(`${API_TOKEN_PREFIX}_`)) {
    return { actor: await authenticateApiToken(services.prisma, bearer), sessionId: null };
  }
  const session = await services.auth.api.getSession({ headers });
  if (!session) return { actor: null, sessionId: null };
  const user = session.user as typeof session.user & { role?: unknown; disabled?: unknown };
  if (user.disabled === true) return { actor: null, sessionId: null };
  const role = roleSchema.safeParse(user.role);
  if (!role.success) return { actor: null, sessionId: null };
  return {
    actor: { kind: "user", id: user.id, name: user.email, role: role.data },
    sessionId: session.session.id,
  };
}

/** The actor when the HTTP edge already resolved it (to choose the request's body limit), else from the headers. */
export async function createContext(
  services: Services,
  headers: Headers,
  known?: { actor: Actor | null; sessionId: string | null; requestId: string },
): Promise<Context> {
  if (known) return { services, ...known };
  return { services, ...(await resolveActor(services, headers)) };
}
