import type { AgentProcess } from "@fulcrum/agent/testing";
import { type NamedBackend, startNamedBackend } from "./backends";
import {
  actors,
  callerAs,
  enrollAgent,
  freePort,
  startTestConsole,
  type TestConsole,
  waitFor,
} from "./console";

type Caller = ReturnType<typeof callerAs>;
type PoolInput = Parameters<Caller["pool"]["create"]>[0];
type ListenerInput = Parameters<Caller["listener"]["create"]>[0];

export interface StackOptions {
  /** The cluster every test of the stack works in. */
  cluster: string;
  /** Real HTTP backends to start, each answering with its name (not yet in any pool). */
  backends?: string[];
  /** Extra environment for the console. */
  consoleEnv?: Record<string, string>;
}

/**
 * What most console integration tests start with: a real console on a fresh
 * database, callers for each role, one cluster, real backends, and the real
 * agent processes the test enrolls. `close()` stops them all, agents first.
 */
export interface Stack {
  console: TestConsole;
  admin: Caller;
  operator: Caller;
  viewer: Caller;
  clusterId: string;
  /** The started backends, in the order of `StackOptions.backends`. */
  backends: NamedBackend[];
  /** Agents enrolled through `enroll`. */
  agents: AgentProcess[];
  /** Enrolls a real agent process into the stack's cluster (stopped by `close()`). */
  enroll(name: string, opts?: Parameters<typeof enrollAgent>[3]): ReturnType<typeof enrollAgent>;
  /**
   * One HTTP listener on 127.0.0.1 (a free port) routing everything to a new
   * pool with the given backends (default: all of the stack's);
   * `listenerSettings` e.g. `tls` makes it an HTTPS listener.
   */
  webPool(opts?: {
    listener?: string;
    listenerSettings?: Omit<ListenerInput, "clusterId" | "name" | "bindAddress" | "port">;
    pool?: string;
    poolSettings?: Omit<PoolInput, "clusterId" | "name">;
    backends?: NamedBackend[];
  }): Promise<{ listenerId: string; listenerPort: number; poolId: string; backendIds: string[] }>;
  /** The cluster's newest config version (null before the first change). */
  latestVersion(): Promise<number | null>;
  /** Waits until every connected agent of the cluster runs `version` (change.rollout says applied). */
  rolledOut(version: number): ReturnType<Caller["change"]["rollout"]>;
  close(): Promise<void>;
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const c = await startTestConsole(opts.consoleEnv);
  const backends: NamedBackend[] = [];
  for (const name of opts.backends ?? []) backends.push(await startNamedBackend(name));
  const operator = callerAs(c, actors.operator);
  const clusterId = (await operator.cluster.create({ name: opts.cluster })).id;
  const agents: AgentProcess[] = [];
  return {
    console: c,
    admin: callerAs(c, actors.admin),
    operator,
    viewer: callerAs(c, actors.viewer),
    clusterId,
    backends,
    agents,
    async enroll(name, enrollOpts) {
      const enrolled = await enrollAgent(c, clusterId, name, enrollOpts);
      agents.push(enrolled.agent);
      return enrolled;
    },
    async webPool({
      listener = "web",
      listenerSettings = {},
      pool = "app",
      poolSettings = {},
      backends: members = backends,
    } = {}) {
      const listenerPort = await freePort();
      const { id: listenerId } = await operator.listener.create({
        ...listenerSettings,
        clusterId,
        name: listener,
        bindAddress: "127.0.0.1",
        port: listenerPort,
      });
      const { id: poolId } = await operator.pool.create({ clusterId, name: pool, ...poolSettings });
      const backendIds: string[] = [];
      for (const b of members)
        backendIds.push(
          (await operator.backend.create({ poolId, name: b.name, address: "127.0.0.1", port: b.port })).id,
        );
      await operator.route.create({ listenerId, poolId });
      return { listenerId, listenerPort, poolId, backendIds };
    },
    async latestVersion() {
      const latest = await c.services.prisma.configVersion.findFirst({
        where: { clusterId },
        orderBy: { version: "desc" },
      });
      return latest?.version ?? null;
    },
    rolledOut: (version) =>
      waitFor(`v${version} to be applied`, async () => {
        const r = await operator.change.rollout({ clusterId, version });
        return r.agents.length > 0 && r.agents.every((a) => a.state === "applied" || !a.connected)
          ? r
          : undefined;
      }),
    async close() {
      for (const a of agents) await a.stop();
      await c.stop();
      for (const b of backends) await b.close();
    },
  };
}
