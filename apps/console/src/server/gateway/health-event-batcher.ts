import type { HealthEvent } from "@fulcrum/protocol";
import type { AgentRef, StatsSink } from "../metrics/sink";

const FLUSH_MS = 250;

/**
 * Collects the health changes agents report and hands them to the sink once
 * per flush interval, one multi-row write per agent, instead of one write per
 * frame. What it holds is bounded by the per-agent health budget (AgentReports).
 */
export class HealthEventBatcher {
  private pending = new Map<string, { agent: AgentRef; events: HealthEvent[] }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly sink: StatsSink) {}

  add(agent: AgentRef, events: readonly HealthEvent[]): void {
    if (events.length === 0 || !this.sink.healthEvents) return;
    let entry = this.pending.get(agent.id);
    if (!entry) {
      entry = { agent, events: [] };
      this.pending.set(agent.id, entry);
    }
    for (const e of events) entry.events.push(e);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, FLUSH_MS);
  }

  /** Hands over what is pending now; used on the timer and at shutdown. */
  flush(): void {
    const batch = this.pending;
    this.pending = new Map();
    for (const { agent, events } of batch.values()) this.sink.healthEvents?.(agent, events);
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flush();
  }
}
