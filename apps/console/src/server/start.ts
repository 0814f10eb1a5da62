import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Duplex } from "node:stream";
import { openDatabase, type PrismaClient } from "@fulcrum/db";
import { AGENT_GATEWAY_PATH } from "@fulcrum/protocol";
import { createAuth } from "./auth/auth";
import { bootstrapAdmin } from "./auth/bootstrap";
import { loadConsoleConfig } from "./config";
import { AcmeScheduler } from "./domain/acme/scheduler";
import { loadCaBundles } from "./domain/certificates/ca-bundles";
import { type KeyRing, keyRing } from "./domain/certificates/key-encryption";
import { loadTlsMaterial, reencryptCertificateKeys } from "./domain/certificates/material";
import { currentTicketKeys, type TicketKeyDeps } from "./domain/ticket-keys/ring-store";
import { TicketKeyScheduler } from "./domain/ticket-keys/scheduler";
import { startClusterEventRelay } from "./events/cluster-events";
import { AgentGateway } from "./gateway/agent-gateway";
import { createRequestHandler } from "./http/handler";
import { consoleLogger as log } from "./logger";
import { MetricsStore } from "./metrics/store";
import type { Services } from "./services";

export interface StartOptions {
  dev: boolean;
  /** The console app directory (where next.config.ts lives). */
  dir: string;
  env: NodeJS.ProcessEnv;
  /** false serves only the APIs and the agent gateway (integration tests need no Next build). */
  pages?: boolean;
}

/** Builds every service, then serves pages, APIs and the agent gateway on one port. */
export interface RunningConsole {
  port: number;
  services: Services;
  close(): Promise<void>;
}

/** After FULCRUM_SECRET was rotated: keys under a previous secret move to the current one. */
async function reencryptKeysAtStart(prisma: PrismaClient, keys: KeyRing): Promise<void> {
  const { reencrypted, unreadable } = await reencryptCertificateKeys(prisma, keys);
  if (reencrypted > 0)
    log.info("re-encrypted certificate keys with the current secret", { count: reencrypted });
  if (unreadable.length > 0) {
    log.error(
      "certificate keys encrypted with an unknown secret: add it to FULCRUM_PREVIOUS_SECRETS, or upload these again",
      { certificates: unreadable.join(",") },
    );
  }
}

export async function startConsole(opts: StartOptions): Promise<RunningConsole> {
  const config = loadConsoleConfig(opts.env, { dev: opts.dev });
  const db = await openDatabase(config.database, {
    migrationsDir: path.resolve(opts.dir, "../../prisma/migrations"),
  });
  if (db.applied.length > 0) log.info("applied migrations", { migrations: db.applied.join(",") });
  const metrics = new MetricsStore({ prisma: db.prisma, log, retentionDays: config.metrics.retentionDays });
  const keys = keyRing(config.secret, config.previousSecrets);
  await reencryptKeysAtStart(db.prisma, keys);
  // The gateway is made below; rotations reach its agents through this late-bound callback.
  let gatewayRef: AgentGateway | undefined;
  const ticketKeyDeps: TicketKeyDeps = {
    prisma: db.prisma,
    keys,
    rotationMs: config.ticketKeyRotationMs,
    origin: "",
    onRotated: (clusterId) => gatewayRef?.ticketKeysChanged(clusterId),
  };
  const gateway = new AgentGateway({
    prisma: db.prisma,
    log,
    stats: metrics,
    limits: config.agentLimits,
    tlsMaterial: (snapshot) => loadTlsMaterial(db.prisma, keys, snapshot),
    ticketKeys: (clusterId) => currentTicketKeys(ticketKeyDeps, clusterId),
    caBundles: (snapshot) => loadCaBundles(db.prisma, snapshot.caBundles),
  });
  gatewayRef = gateway;
  ticketKeyDeps.origin = gateway.instanceId;
  const ticketKeys = new TicketKeyScheduler({ ...ticketKeyDeps, log });
  const services: Services = {
    config,
    prisma: db.prisma,
    auth: createAuth({
      prisma: db.prisma,
      secret: config.secret,
      baseURL: config.publicUrl,
    }),
    gateway,
    publisher: gateway,
    log,
    metrics,
    keys,
    ticketKeys,
  };
  if (config.acme) services.acme = new AcmeScheduler(services, config.acme);
  await bootstrapAdmin(services);
  const relay = await startClusterEventRelay(db, gateway, log);
  metrics.start();
  services.acme?.start();
  ticketKeys.start();

  const pages = opts.pages === false ? undefined : await loadPages(opts);
  const server = http.createServer(
    // Node looks for expired requests this often (30 s by default, which would stretch a short timeout).
    { connectionsCheckingInterval: Math.min(5000, Math.ceil(config.http.headersTimeoutMs / 2)) },
    createRequestHandler(services, pages?.handle ?? notFound),
  );
  // Node 20's defaults are 60 s and 300 s; a client that trickles its headers or body is cut off sooner.
  // Headers and URL together stay within Node's default maxHeaderSize of 16 KiB (431 beyond it).
  server.headersTimeout = config.http.headersTimeoutMs;
  server.requestTimeout = config.http.requestTimeoutMs;
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (socket.writable) socket.end(`HTTP/1.1 ${clientErrorStatus(err.code)}\r\nConnection: close\r\n\r\n`);
    log.warn("client error", { err: err.message, code: err.code });
  });
  server.on("upgrade", (req, socket, head) => {
    socket.on("error", () => socket.destroy());
    const pathname = new URL(req.url ?? "/", "http://console").pathname;
    if (pathname === AGENT_GATEWAY_PATH) {
      gateway.handleUpgrade(req, socket, head).catch((err: unknown) => {
        log.error("agent upgrade failed", { err });
        socket.destroy();
      });
    } else if (opts.dev && pages) {
      void pages.upgrade(req, socket, head);
    } else {
      socket.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  log.info("console ready", { url: config.publicUrl, port, database: config.database.kind });

  return {
    port,
    services,
    async close() {
      await services.acme?.stop();
      await ticketKeys.stop();
      await relay.close();
      await gateway.close();
      // Ends live streams and writes the unwritten minutes (the current one too: rollups add up).
      await metrics.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await pages?.close();
      await db.close();
    },
  };
}

/** What Node's own clientError handler would answer: a slow or oversized request is not a malformed one. */
function clientErrorStatus(code: string | undefined): string {
  if (code === "HPE_HEADER_OVERFLOW") return "431 Request Header Fields Too Large";
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") return "408 Request Timeout";
  return "400 Bad Request";
}

function notFound(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("pages are not served by this process\n");
}

/** Next.js is imported lazily so API-only processes (tests, tools) never load it. */
async function loadPages(opts: StartOptions) {
  const { default: next } = await import("next");
  const app = next({ dev: opts.dev, dir: opts.dir, quiet: !opts.dev });
  await app.prepare();
  const handle = app.getRequestHandler();
  const upgrade = app.getUpgradeHandler();
  return {
    handle: (req: IncomingMessage, res: ServerResponse) => handle(req, res),
    upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => upgrade(req, socket, head),
    close: async () => {
      await app.close?.();
    },
  };
}
