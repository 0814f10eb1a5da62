import { z } from "zod";
import { isHostname } from "./grammar";

/*
 * ACME HTTP-01 challenges (issue 16) travel in the snapshot so every agent of
 * the cluster, connected to any console, answers them: the CA may validate
 * through any of them. The token and key authorization are public by design
 * (the CA fetches them over plain HTTP), so a config version may hold them.
 */

/** Challenges one snapshot may carry (one per name being validated at a time). */
export const MAX_ACME_CHALLENGES = 1000;
/** RFC 8555 tokens are 43 base64url characters; this leaves room without allowing anything else. */
export const MAX_ACME_TOKEN_LENGTH = 128;
/** The path prefix the CA requests (RFC 8555 section 8.3). */
export const ACME_CHALLENGE_PATH = "/.well-known/acme-challenge/";

const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function isAcmeToken(s: string): boolean {
  return s.length >= 1 && s.length <= MAX_ACME_TOKEN_LENGTH && BASE64URL.test(s);
}

/** token "." base64url(JWK thumbprint): two base64url parts. */
export function isKeyAuthorization(s: string): boolean {
  const dot = s.indexOf(".");
  return (
    s.length <= MAX_ACME_TOKEN_LENGTH + 1 + 64 &&
    dot > 0 &&
    isAcmeToken(s.slice(0, dot)) &&
    isAcmeToken(s.slice(dot + 1))
  );
}

export const acmeChallengeSchema = z.object({
  token: z.string().max(MAX_ACME_TOKEN_LENGTH).refine(isAcmeToken, "A token is 1-128 base64url characters."),
  keyAuthorization: z
    .string()
    .max(MAX_ACME_TOKEN_LENGTH + 65)
    .refine(isKeyAuthorization, "A key authorization is token.thumbprint, both base64url."),
  /** The name being validated; absent: answered for any Host. */
  host: z
    .string()
    .max(253)
    .refine((h) => h === h.toLowerCase() && isHostname(h), "A host is a lower-case host name.")
    .optional(),
});
export type AcmeChallenge = z.infer<typeof acmeChallengeSchema>;
