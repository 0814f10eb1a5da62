import { ACME_CHALLENGE_PATH, type AcmeChallenge } from "@fulcrum/protocol";
import { normalizeHost } from "../../pools/route-table";

/** The snapshot's ACME HTTP-01 challenges by token (snapshot.acmeChallenges, checked by the protocol schema). */
export type AcmeTokens = ReadonlyMap<string, AcmeChallenge>;

/** undefined when there is nothing to answer, so plain listeners pay one property read per request. */
export function compileAcmeTokens(challenges: readonly AcmeChallenge[]): AcmeTokens | undefined {
  if (challenges.length === 0) return undefined;
  return new Map(challenges.map((c) => [c.token, c]));
}

/**
 * The answer to `GET /.well-known/acme-challenge/<token>` (RFC 8555 §8.3) as a
 * serialized HTTP/1.1 response, given before routing so the CA reaches it
 * whatever the routes say. undefined for anything else, including unknown
 * tokens: those go on to the routes (a backend may run its own ACME client).
 */
export function acmeChallengeReply(
  tokens: AcmeTokens,
  method: string,
  target: string,
  hostField: string,
  close: boolean,
): Buffer | undefined {
  const key = acmeTokenAnswer(tokens, method, target, hostField);
  if (key === undefined) return undefined;
  let head = `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${key.length}\r\n`;
  if (close) head += "connection: close\r\n";
  // The key authorization is base64url and a dot (protocol grammar): latin1 is exact.
  return Buffer.from(`${head}\r\n${method === "HEAD" ? "" : key}`, "latin1");
}

/** The key authorization to answer with (the body of the reply above), for front ends that frame it themselves. */
export function acmeTokenAnswer(
  tokens: AcmeTokens,
  method: string,
  target: string,
  hostField: string,
): string | undefined {
  if ((method !== "GET" && method !== "HEAD") || !target.startsWith(ACME_CHALLENGE_PATH)) return undefined;
  const c = tokens.get(target.slice(ACME_CHALLENGE_PATH.length));
  if (c === undefined) return undefined;
  if (c.host !== undefined && normalizeHost(hostField) !== c.host) return undefined;
  return c.keyAuthorization;
}
