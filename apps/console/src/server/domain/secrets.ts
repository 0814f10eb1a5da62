import { createHash, randomBytes } from "node:crypto";

/** Secrets are shown once; only their sha256 is stored, so a database leak reveals no usable token. */
export function newSecret(prefix: string): { secret: string; hash: string; display: string } {
  const secret = `${prefix}_${randomBytes(32).toString("base64url")}`;
  return { secret, hash: hashSecret(secret), display: `${secret.slice(0, prefix.length + 7)}…` };
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}
