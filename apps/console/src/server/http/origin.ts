import type { IncomingHttpHeaders } from "node:http";
import { API_TOKEN_PREFIX } from "../domain/api-tokens";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function originOfUrl(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * CSRF defence in depth (SameSite=Lax cookies are the first line): a write a
 * browser sends with the session cookie must come from one of the console's own
 * origins. Browsers name the sender in Origin on every POST; when it is absent,
 * Sec-Fetch-Site and then Referer decide. A request with none of the three is
 * not from a browser page, so no cookie was sent on anyone's behalf. API-token
 * requests carry no cookie authority and are exempt.
 * Returns what names the foreign sender, or undefined when the request may pass.
 */
export function foreignSender(
  method: string | undefined,
  headers: IncomingHttpHeaders,
  allowedOrigins: readonly string[],
): string | undefined {
  if (SAFE_METHODS.has(method ?? "GET")) return undefined;
  // The same test resolveActor applies: with an API token, the cookie is not what authenticates.
  const bearer = /^Bearer\s+(\S+)$/i.exec(first(headers.authorization) ?? "")?.[1];
  if (bearer?.startsWith(`${API_TOKEN_PREFIX}_`)) return undefined;
  const origin = first(headers.origin);
  if (origin !== undefined) return allowedOrigins.includes(origin) ? undefined : `origin ${origin}`;
  const site = first(headers["sec-fetch-site"]);
  if (site !== undefined) return site === "same-origin" ? undefined : `a ${site} page`;
  const referer = first(headers.referer);
  if (referer !== undefined) {
    const from = originOfUrl(referer);
    return from !== undefined && allowedOrigins.includes(from) ? undefined : `referer ${from ?? "(invalid)"}`;
  }
  return undefined;
}
