import type { PrismaClient } from "@fulcrum/db";
import type { Auth } from "./auth/auth";
import type { ConsoleConfig } from "./config";
import type { AcmeScheduler } from "./domain/acme/scheduler";
import type { KeyRing } from "./domain/certificates/key-encryption";
import type { TicketKeyScheduler } from "./domain/ticket-keys/scheduler";
import type { TopologyDeps } from "./domain/topology-change";
import type { AgentGateway } from "./gateway/agent-gateway";
import type { Logger } from "./logger";
import type { MetricsStore } from "./metrics/store";

/** Everything a request handler may use, built once at start by `server.ts`. */
export interface Services extends TopologyDeps {
  config: ConsoleConfig;
  prisma: PrismaClient;
  auth: Auth;
  gateway: AgentGateway;
  log: Logger;
  metrics: MetricsStore;
  /** Encrypts and decrypts certificate keys (derived from FULCRUM_SECRET). */
  keys: KeyRing;
  /** The ACME scheduler, when FULCRUM_ACME_DIRECTORY_URL is set (woken after a create or "renew now"). */
  acme?: AcmeScheduler;
  /** Rotates the clusters' session-ticket key rings (domain/ticket-keys/). */
  ticketKeys: TicketKeyScheduler;
}
