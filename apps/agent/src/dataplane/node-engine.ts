import type { Snapshot, SnapshotListener } from "@fulcrum/protocol";
import { errorMessage, ListenerBindError } from "../errors";
import type { Logger } from "../log";
import { compileSnapshot } from "./compile";
import type { AppliedSnapshot, Engine } from "./engine";
import { HttpListener } from "./http-listener";
import { bindKey, type Listener } from "./listener";
import type { PoolRuntime } from "./pool-runtime";
import type { RouteTable } from "./route-table";
import { TcpListener } from "./tcp-listener";
import { type DataPlaneTimeouts, DEFAULT_TIMEOUTS } from "./timeouts";
import { UpstreamAgents } from "./upstream-agents";

export interface NodeEngineOptions {
  log: Logger;
  timeouts?: Partial<DataPlaneTimeouts>;
  rng?: () => number;
}

/**
 * The in-process data plane (node:http / node:net). Reconfiguration is
 * prepare-then-swap: compile, bind what is new, and only then hand tables to
 * listeners and retire what is gone.
 */
export class NodeEngine implements Engine {
  private listeners = new Map<string, Listener>();
  private pools: ReadonlyMap<string, PoolRuntime> = new Map();
  private current: AppliedSnapshot | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly timeouts: DataPlaneTimeouts;
  private readonly agents: UpstreamAgents;
  private readonly log: Logger;
  private readonly rng: () => number;

  constructor(opts: NodeEngineOptions) {
    this.log = opts.log;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    this.agents = new UpstreamAgents(this.timeouts);
    this.rng = opts.rng ?? Math.random;
  }

  get applied(): AppliedSnapshot | undefined {
    return this.current;
  }

  /** Listener by bind address, for status output and tests. */
  listenerAt(bindAddress: string, port: number): Listener | undefined {
    return this.listeners.get(bindKey(bindAddress, port));
  }

  apply(snapshot: Snapshot): Promise<void> {
    // Serialized: two overlapping applies would race on the same ports.
    const run = this.queue.then(() => this.applyNow(snapshot));
    this.queue = run.catch(() => {});
    return run;
  }

  private async applyNow(snapshot: Snapshot): Promise<void> {
    const compiled = compileSnapshot(snapshot, this.pools, this.agents, this.rng);
    const tableOf = (l: SnapshotListener) => compiled.tables.get(l.id) as RouteTable;

    const next = new Map<string, Listener>();
    const fresh: Listener[] = [];
    const displaced: Listener[] = [];
    try {
      for (const l of snapshot.listeners) {
        const key = bindKey(l.bindAddress, l.port);
        const existing = this.listeners.get(key);
        if (existing && existing.protocol === l.protocol) {
          next.set(key, existing);
          continue;
        }
        if (existing) {
          // Same socket address, other protocol: it must be released before the new bind.
          await existing.close(0);
          displaced.push(existing);
        }
        const listener = this.createListener(l, tableOf(l));
        try {
          await listener.bind();
        } catch (e) {
          throw new ListenerBindError(`listener ${l.name} cannot bind ${key}: ${errorMessage(e)}`, {
            cause: e,
          });
        }
        fresh.push(listener);
        next.set(key, listener);
      }
    } catch (e) {
      await Promise.all(fresh.map((l) => l.close(0)));
      await this.rebind(displaced);
      throw e;
    }

    // Commit: nothing below can fail.
    for (const l of snapshot.listeners) next.get(bindKey(l.bindAddress, l.port))!.setTable(tableOf(l));
    const retired = [...this.listeners].filter(([key, l]) => next.get(key) !== l && !displaced.includes(l));
    this.listeners = next;
    this.pools = compiled.pools;
    this.current = { version: snapshot.version, hash: snapshot.hash };
    this.agents.retainOnly(compiled.upstreamKeys);
    for (const [key, l] of retired) {
      l.close(this.timeouts.drainGraceMs).then(
        () => this.log.info("listener closed", { bind: key }),
        (e) => this.log.warn("listener close failed", { bind: key, error: errorMessage(e) }),
      );
    }
  }

  /** Best effort: a listener displaced for a protocol change goes back if the apply failed. */
  private async rebind(listeners: Listener[]): Promise<void> {
    for (const l of listeners) {
      await l.bind().catch((e) =>
        this.log.error("could not restore listener after failed apply", {
          bind: bindKey(l.bindAddress, l.port),
          error: errorMessage(e),
        }),
      );
    }
  }

  private createListener(l: SnapshotListener, table: RouteTable): Listener {
    const Kind = l.protocol === "http" ? HttpListener : TcpListener;
    return new Kind(l.bindAddress, l.port, table, this.timeouts, this.log);
  }

  async stop(): Promise<void> {
    await this.queue;
    const all = [...this.listeners.values()];
    this.listeners = new Map();
    await Promise.all(all.map((l) => l.close(this.timeouts.drainGraceMs)));
    this.agents.destroyAll();
  }
}
