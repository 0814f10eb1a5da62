import { Prisma, type PrismaClient } from "@fulcrum/db";
import type { WorkersReport } from "@fulcrum/protocol";
import type { Logger } from "../logger";

export interface AgentStatusUpdate {
  connectedAt?: Date;
  disconnectedAt?: Date;
  lastHeartbeatAt?: Date;
  softwareVersion?: string;
  appliedVersion?: number | null;
  lastError?: string | null;
  /** The heartbeat's workers report, as the protocol schema parsed it; null clears it (a new connection). */
  workers?: WorkersReport | null;
}

const FLUSH_MS = 100;

/**
 * Coalesces what agents report (hello, acks, heartbeats, disconnects) into one
 * batch per 100 ms: a thousand agents' heartbeats would otherwise be hundreds
 * of separate writes a second. Later fields of one agent win over earlier ones.
 */
export class AgentStatusWriter {
  private pending = new Map<string, AgentStatusUpdate>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly deps: { prisma: PrismaClient; log: Logger }) {}

  write(agentId: string, update: AgentStatusUpdate): void {
    this.pending.set(agentId, { ...this.pending.get(agentId), ...update });
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, FLUSH_MS);
  }

  /** Writes what is pending now; used on a timer and at shutdown. */
  flush(): Promise<void> {
    const batch = [...this.pending];
    this.pending = new Map();
    if (batch.length === 0) return this.flushing;
    // updateMany: an agent deleted meanwhile matches no row instead of failing the batch.
    this.flushing = this.flushing
      .then(() =>
        this.deps.prisma.$transaction(
          batch.map(([id, { workers, ...data }]) =>
            this.deps.prisma.agent.updateMany({
              where: { id },
              data: workers === undefined ? data : { ...data, workers: workers ?? Prisma.DbNull },
            }),
          ),
        ),
      )
      .then(
        () => undefined,
        (err: unknown) => this.deps.log.error("could not record agent status", { agents: batch.length, err }),
      );
    return this.flushing;
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
