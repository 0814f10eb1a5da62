import http from "node:http";
import path from "node:path";
import { openDatabase } from "@fulcrum/db";
import { AGENT_GATEWAY_PATH } from "@fulcrum/protocol";
import { createAuth } from "./auth/auth";
import { bootstrapAdmin } from "./auth/bootstrap";
import { loadConsoleConfig } from "./config";
import { AgentGateway } from "./gateway/agent-gateway";
import { createRequestHandler } from "./http/handler";
import { consoleLogger as log } from "./logger";
import type { Services } from "./services";

export interface StartOptions {
  dev: boolean;
  /** The console app directory (where next.config.ts lives). */
  dir: string;
  env: NodeJS.ProcessEnv;
}

/** Builds every service, then serves pages, APIs and the agent gateway on one port. */
export async function startConsole(opts: StartOptions): Promise<{ close(): Promise<void>; port: number }> {
  const config = loadConsoleConfig(opts.env, { dev: opts.dev });
  const db = await openDatabase(config.database, {
    migrationsDir: path.resolve(opts.dir, "../../prisma/migrations"),
  });
  if (db.applied.length > 0) log.info("applied migrations", { migrations: db.applied.join(",") });
  const gateway = new AgentGateway({ prisma: db.prisma, log });
  const services: Services = {
    config,
    prisma: db.prisma,
    auth: createAuth({
      prisma: db.prisma,
      secret: config.secret,
      baseURL: config.publicUrl,
      loginRateLimit: config.loginRateLimit,
    }),
    gateway,
    publisher: gateway,
    log,
  };
  await bootstrapAdmin(services);

  // Imported lazily so tests and tools can use the services without loading Next.
  const { default: next } = await import("next");
  const app = next({ dev: opts.dev, dir: opts.dir, quiet: !opts.dev });
  await app.prepare();
  const nextUpgrade = app.getUpgradeHandler();

  const server = http.createServer(createRequestHandler(services, app.getRequestHandler()));
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  server.on("clientError", (err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    log.warn("client error", { err: err.message });
  });
  server.on("upgrade", (req, socket, head) => {
    socket.on("error", () => socket.destroy());
    const pathname = new URL(req.url ?? "/", "http://console").pathname;
    if (pathname === AGENT_GATEWAY_PATH) {
      gateway.handleUpgrade(req, socket, head).catch((err: unknown) => {
        log.error("agent upgrade failed", { err });
        socket.destroy();
      });
    } else if (opts.dev) {
      void nextUpgrade(req, socket, head);
    } else {
      socket.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, resolve);
  });
  log.info("console ready", { url: config.publicUrl, database: config.database.kind });

  return {
    port: config.port,
    async close() {
      gateway.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await app.close?.();
      await db.close();
    },
  };
}
