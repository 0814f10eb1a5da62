import type { Logger } from "../../logger";
import { rotateDueTicketKeys, type TicketKeyDeps } from "./ring-store";

/** Looks for due rings this often at most (and at least four times per rotation interval). */
const MAX_CHECK_MS = 60_000;

/**
 * Rotates the clusters' ticket-key rings when they fall due. Every console
 * runs one; the compare-and-set in ring-store.ts lets one of them rotate each
 * ring, and the others hear of it through the cluster events.
 */
export class TicketKeyScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(private readonly deps: TicketKeyDeps & { log: Logger }) {}

  start(): void {
    const every = Math.max(1000, Math.min(MAX_CHECK_MS, Math.floor(this.deps.rotationMs / 4)));
    this.timer = setInterval(() => void this.tick(), every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Rotates what is due by `now` (one pass at a time); returns the clusters rotated by this console. */
  async tick(now = new Date()): Promise<string[]> {
    await this.running;
    const pass = rotateDueTicketKeys(this.deps, now).then(
      (clusters) => {
        for (const c of clusters) this.deps.log.info("ticket keys rotated", { cluster: c });
        return clusters;
      },
      (err: unknown) => {
        this.deps.log.error("ticket-key rotation failed", { err });
        return [] as string[];
      },
    );
    this.running = pass;
    return pass;
  }
}
