import { DEMO_BACKENDS } from "./backends";
import type { ConsoleApi } from "./console-api";
import type { DemoPorts, SeedResult } from "./messages";
import type { DemoTls } from "./tls";

export const DEMO_LISTENER_PORT = 8080;
export const DEMO_TLS_LISTENER_PORT = 8443;
export const DEMO_PORTS: DemoPorts = { http: DEMO_LISTENER_PORT, https: DEMO_TLS_LISTENER_PORT };
/** The demo certificate's name in the console. */
export const DEMO_CERTIFICATE = "demo-localhost";

interface Cluster {
  id: string;
  name: string;
}
interface Pool {
  id: string;
  name: string;
}
interface Certificate {
  id: string;
  name: string;
  fingerprint: string;
}
interface Listener {
  id: string;
  name: string;
  routes: unknown[];
}

/**
 * Creates the demo topology once; on later starts finds it and changes nothing (but a demo
 * certificate made anew on disk replaces the uploaded one). `ports` are for tests.
 */
export async function seedDemoTopology(
  api: ConsoleApi,
  tls: DemoTls,
  ports: DemoPorts = DEMO_PORTS,
): Promise<SeedResult> {
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
      port: ports.http,
    });
    await api.mutate("route.create", { listenerId: listener.id, poolId: pool.id });
  }
  // Uploaded as the Certificates page does it: the console checks and encrypts it like any other.
  let certificate = (await api.query<Certificate[]>("certificate.list", { clusterId })).find(
    (c) => c.name === DEMO_CERTIFICATE,
  );
  if (!certificate) {
    created = true;
    certificate = await api.mutate<Certificate>("certificate.upload", {
      clusterId,
      name: DEMO_CERTIFICATE,
      chainPem: tls.chainPem,
      keyPem: tls.keyPem,
    });
  } else if (certificate.fingerprint !== tls.fingerprint) {
    // Made again on disk (near expiry, or the directory was removed): listeners keep it by id.
    await api.mutate("certificate.replace", {
      id: certificate.id,
      chainPem: tls.chainPem,
      keyPem: tls.keyPem,
    });
  }
  let tlsListener = (await api.query<Listener[]>("listener.list", { clusterId })).find(
    (l) => l.name === "demo-web-tls",
  );
  if (!tlsListener) {
    created = true;
    tlsListener = await api.mutate<Listener>("listener.create", {
      clusterId,
      name: "demo-web-tls",
      protocol: "http",
      bindAddress: "127.0.0.1",
      port: ports.https,
      tls: { certificateIds: [certificate.id], defaultCertificateId: certificate.id },
    });
    await api.mutate("route.create", { listenerId: tlsListener.id, poolId: pool.id });
  }
  const [latest] = await api.query<Array<{ version: number }>>("config.versions", { clusterId });
  return { clusterId, created, version: latest?.version ?? null };
}
