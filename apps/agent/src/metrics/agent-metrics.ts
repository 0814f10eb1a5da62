import type { Engine } from "../engines/engine";
import type { Logger } from "../log";
import type { ApplySnapshot } from "../snapshot-applier";
import { AppliedSnapshots } from "./applied-snapshots";
import { type BackendHealthProbe, BackendStatusTracker } from "./backend-status";
import { type MetricsServer, renderPrometheus, startMetricsServer } from "./prometheus";
import { StatsSampler } from "./sampler";

export interface AgentMetricsOptions {
  engine: Engine;
  log: Logger;
  /** For fulcrum_agent_info. */
  name: string;
  version: string;
  /** The engine's own view of backend health, when it offers one (else health events are used). */
  probe?: BackendHealthProbe;
  /** Sampling interval for console stats (default 1000 ms). */
  statsIntervalMs?: number;
  /** Serve GET /metrics here; off when undefined. */
  prometheus?: { host: string; port: number };
}

/**
 * The agent's statistics: which snapshot serves (to name things), backend
 * status, the 1 Hz sampler for the console, and the optional Prometheus
 * endpoint. Give every snapshot to the engine through `wrapApply`.
 */
export class AgentMetrics {
  readonly snapshots = new AppliedSnapshots();
  readonly status: BackendStatusTracker;
  readonly sampler: StatsSampler;
  private server: MetricsServer | undefined;
  private readonly unsubscribeHealth: (() => void) | undefined;

  constructor(private readonly opts: AgentMetricsOptions) {
    this.status = new BackendStatusTracker(opts.probe);
    this.unsubscribeHealth = opts.engine.onHealthEvent?.((e) => this.status.observe(e));
    this.sampler = new StatsSampler({
      engine: opts.engine,
      snapshots: this.snapshots,
      status: this.status,
      log: opts.log,
      ...(opts.statsIntervalMs ? { intervalMs: opts.statsIntervalMs } : {}),
    });
  }

  /** Wraps a snapshot applier so the metrics learn the full snapshot the engine serves. */
  wrapApply(apply: ApplySnapshot): ApplySnapshot {
    return (s, tlsMaterial, caBundles) => {
      this.snapshots.offer(s);
      return apply(s, tlsMaterial, caBundles);
    };
  }

  /** Starts the Prometheus endpoint if configured; rejects when its port cannot be bound. */
  async startPrometheus(): Promise<void> {
    const p = this.opts.prometheus;
    if (!p || this.server) return;
    this.server = await startMetricsServer({
      host: p.host,
      port: p.port,
      log: this.opts.log,
      render: () => this.render(),
    });
    this.opts.log.info("serving Prometheus metrics", {
      url: `http://${p.host.includes(":") ? `[${p.host}]` : p.host}:${this.server.port}/metrics`,
    });
  }

  render(): string {
    const { engine } = this.opts;
    return renderPrometheus({
      stats: engine.stats?.(),
      snapshot: this.snapshots.resolve(engine.applied),
      status: this.status,
      agent: { name: this.opts.name, version: this.opts.version },
      workers: engine.workers?.(),
    });
  }

  async stop(): Promise<void> {
    this.sampler.stop();
    this.unsubscribeHealth?.();
    await this.server?.close();
    this.server = undefined;
  }
}
