import type { PrismaClient } from "@fulcrum/db";
import { betterAuth } from "better-auth";
import { prismaAdapter } from "better-auth/adapters/prisma";

/** Header the custom server sets from the socket address, so clients cannot spoof the rate-limit key. */
export const CLIENT_IP_HEADER = "x-fulcrum-client-ip";

export const SESSION_COOKIE_PREFIX = "fulcrum";

export function createAuth(opts: { prisma: PrismaClient; secret: string; baseURL: string }) {
  return betterAuth({
    appName: "Fulcrum",
    baseURL: opts.baseURL,
    basePath: "/api/auth",
    secret: opts.secret,
    database: prismaAdapter(opts.prisma, { provider: "postgresql" }),
    emailAndPassword: {
      enabled: true,
      // Accounts are made by the setup page or an admin, never by self sign-up.
      disableSignUp: true,
      minPasswordLength: 10,
      maxPasswordLength: 256,
    },
    user: {
      additionalFields: {
        role: { type: "string", required: false, defaultValue: "viewer", input: false },
        disabled: { type: "boolean", required: false, defaultValue: false, input: false },
      },
    },
    session: {
      expiresIn: 60 * 60 * 24 * 7,
      updateAge: 60 * 60 * 24,
      // No cookie cache: a revoked session must stop working on its next request.
      cookieCache: { enabled: false },
    },
    rateLimit: {
      enabled: true,
      storage: "database",
      window: 60,
      max: 300,
      customRules: {
        // Counted by LoginLimiter instead: failures only, by address and account (http/sign-in.ts).
        "/sign-in/email": false,
      },
    },
    advanced: {
      cookiePrefix: SESSION_COOKIE_PREFIX,
      useSecureCookies: opts.baseURL.startsWith("https://"),
      defaultCookieAttributes: { httpOnly: true, sameSite: "lax" },
      ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] },
    },
    trustedOrigins: trustedOrigins(opts.baseURL),
    databaseHooks: {
      session: {
        create: {
          before: async (session) => {
            const user = await opts.prisma.user.findUnique({ where: { id: session.userId } });
            // Returning false makes better-auth refuse the sign-in.
            if (!user || user.disabled) return false;
            return { data: session };
          },
        },
      },
    },
  });
}

export type Auth = ReturnType<typeof createAuth>;

/** A console on a loopback URL is opened as localhost and as 127.0.0.1 alike; both are the same origin to people. */
export function trustedOrigins(baseURL: string): string[] {
  const url = new URL(baseURL);
  if (url.hostname !== "localhost" && url.hostname !== "127.0.0.1") return [url.origin];
  const port = url.port ? `:${url.port}` : "";
  return [`${url.protocol}//localhost${port}`, `${url.protocol}//127.0.0.1${port}`];
}
