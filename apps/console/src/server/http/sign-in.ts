import type { IncomingMessage, ServerResponse } from "node:http";
import type { LoginLimiter } from "../auth/login-limit";
import { TooManyAttemptsError } from "../errors";
import { sendRefusal } from "./respond";

export const SIGN_IN_PATH = "/api/auth/sign-in/email";

function emailOf(body: string): string {
  try {
    const email = (JSON.parse(body) as { email?: unknown } | null)?.email;
    return typeof email === "string" ? email : "";
  } catch {
    return "";
  }
}

/**
 * POST /api/auth/sign-in/email through the login limit: better-auth checks the
 * password; the limiter counts the attempt as a failure unless it answered 2xx.
 */
export async function handleSignIn(
  limiter: LoginLimiter,
  authHandler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
  address: string,
): Promise<void> {
  const decision = await limiter.begin(address, emailOf(body));
  if (!decision.allowed) {
    sendRefusal(res, new TooManyAttemptsError(decision.retryAfterSeconds), {
      headers: { "retry-after": String(decision.retryAfterSeconds) },
    });
    return;
  }
  await authHandler(req, res);
  if (res.statusCode >= 200 && res.statusCode < 300) await limiter.succeeded(decision.attempt);
}
