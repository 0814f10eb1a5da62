import { mkdtempSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type AgentProcess, spawnAgent } from "@fulcrum/agent/testing";
import { createFreshPostgresDatabase, type FreshPostgres } from "@fulcrum/db/testing";
import { TRPCError } from "@trpc/server";
import type { Actor } from "../../src/server/domain/actor";
import { type RunningConsole, startConsole } from "../../src/server/start";
import { createCallerFactory } from "../../src/server/trpc/init";
import { appRouter } from "../../src/server/trpc/root";

export const consoleDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const repoRoot = path.resolve(consoleDir, "../..");

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface TestConsole extends RunningConsole {
  url: string;
  databaseUrl: string | undefined;
  stop(): Promise<void>;
}

/**
 * A real console process-in-process (APIs + agent gateway, no Next pages) on a
 * fresh database: a new PostgreSQL database when DATABASE_URL is set, else PGlite.
 */
export async function startTestConsole(extraEnv: Record<string, string> = {}): Promise<TestConsole> {
  const port = await freePort();
  let fresh: FreshPostgres | undefined;
  const env: NodeJS.ProcessEnv = {
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    PORT: String(port),
    FULCRUM_PUBLIC_URL: `http://127.0.0.1:${port}`,
    FULCRUM_SECRET: "test-secret-test-secret-test-secret-0123456789",
    ...extraEnv,
  };
  if (process.env.DATABASE_URL) {
    fresh = await createFreshPostgresDatabase(process.env.DATABASE_URL);
    env.DATABASE_URL = fresh.url;
  } else {
    env.FULCRUM_DATA_DIR = "memory://";
  }
  const running = await startConsole({ dev: false, dir: consoleDir, env, pages: false });
  return {
    ...running,
    url: `http://127.0.0.1:${running.port}`,
    databaseUrl: fresh?.url,
    async stop() {
      await running.close();
      await fresh?.drop();
    },
  };
}

const createCaller = createCallerFactory(appRouter);

/** A tRPC caller acting as `actor` (null: anonymous), going through the same middleware as HTTP calls. */
export function callerAs(c: RunningConsole, actor: Actor | null) {
  return createCaller({ services: c.services, actor, sessionId: null });
}

export const actors = {
  admin: { kind: "user", id: null, name: "admin@test", role: "admin" },
  operator: { kind: "user", id: null, name: "operator@test", role: "operator" },
  viewer: { kind: "user", id: null, name: "viewer@test", role: "viewer" },
} as const satisfies Record<string, Actor>;

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`);
}

/** How a tRPC call failed: its code, message and per-field errors (zod issues or domain fieldErrors). */
export async function failure(
  p: Promise<unknown>,
): Promise<{ code: string; message: string; fieldErrors: Record<string, string> }> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof TRPCError)) throw err;
    const cause = err.cause as {
      fieldErrors?: Record<string, string>;
      issues?: Array<{ path: PropertyKey[]; message: string }>;
    };
    const fieldErrors: Record<string, string> = { ...(cause?.fieldErrors ?? {}) };
    for (const issue of cause?.issues ?? []) fieldErrors[issue.path.join(".")] ??= issue.message;
    return { code: err.code, message: err.message, fieldErrors };
  }
  throw new Error("expected the call to fail");
}

/** Enrolls a real agent process into `clusterId` with a fresh one-time token and state directory. */
export async function enrollAgent(
  c: TestConsole,
  clusterId: string,
  name: string,
  /** consoleUrl: what the agent is given as --console (default the console's own http URL). */
  opts: { args?: string[]; env?: Record<string, string>; stateDir?: string; consoleUrl?: string } = {},
): Promise<{ agent: AgentProcess; stateDir: string; command: string; secret: string }> {
  const token = await callerAs(c, actors.admin).agent.createEnrollmentToken({ clusterId });
  const stateDir = opts.stateDir ?? mkdtempSync(path.join(os.tmpdir(), `fulcrum-${name}-`));
  const agent = spawnAgent(
    [
      "--console",
      opts.consoleUrl ?? c.url,
      "--token",
      token.secret,
      "--state-dir",
      stateDir,
      "--name",
      name,
      ...(opts.args ?? []),
    ],
    opts.env,
  );
  return { agent, stateDir, command: token.command, secret: token.secret };
}
