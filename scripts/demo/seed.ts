import { DEMO_BACKENDS } from "./backends";
import type { ConsoleApi } from "./console-api";
import type { SeedResult } from "./messages";

export const DEMO_LISTENER_PORT = 8080;

interface Cluster {
  id: string;
  name: string;
}
interface Pool {
  id: string;
  name: string;
}
interface Listener {
  id: string;
  name: string;
  routes: unknown[];
}

/** Creates the demo topology once; on later starts finds it and changes nothing. */
export async function seedDemoTopology(api: ConsoleApi): Promise<SeedResult> {
  const clusters = await api.query<Cluster[]>("cluster.list");
  const cluster = clusters.find((c) => c.name === "default") ?? clusters[0];
  if (!cluster) throw new Error("no cluster: the console creates 'default' with the first admin");
  const clusterId = cluster.id;
  let created = false;

  let pool = (await api.query<Pool[]>("pool.list", { clusterId })).find((p) => p.name === "demo");
  if (!pool) {
    created = true;
    pool = await api.mutate<Pool>("pool.create", {
      clusterId,
      name: "demo",
      // Round robin shows every backend on the graphs: bravo's latency, charlie's errors.
      policy: "round_robin",
      healthCheck: { type: "http", path: "/healthz", intervalMs: 2000, timeoutMs: 1000, rise: 2, fall: 2 },
      slowStartMs: 10_000,
    });
    for (const b of DEMO_BACKENDS) {
      await api.mutate("backend.create", {
        poolId: pool.id,
        name: b.name,
        address: "127.0.0.1",
        port: b.port,
      });
    }
  }
  let listener = (await api.query<Listener[]>("listener.list", { clusterId })).find(
    (l) => l.name === "demo-web",
  );
  if (!listener) {
    created = true;
    listener = await api.mutate<Listener>("listener.create", {
      clusterId,
      name: "demo-web",
      protocol: "http",
      bindAddress: "127.0.0.1",
      port: DEMO_LISTENER_PORT,
    });
    await api.mutate("route.create", { listenerId: listener.id, poolId: pool.id });
  }
  const [latest] = await api.query<Array<{ version: number }>>("config.versions", { clusterId });
  return { clusterId, created, version: latest?.version ?? null };
}
