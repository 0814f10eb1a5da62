/**
 * The three TLS terminators bench/proxy/tls.ts compares, each serving the
 * same certificates on one port per key type, in front of the same backend:
 * the agent (builtin engine, `--config` with `{ snapshot, tlsMaterial }`),
 * nginx (1 worker) and HAProxy (nbthread 1).
 */
import { execFileSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { nginxProxyConf } from "./configs";
import { type Started, start } from "./processes";
import { REPO_ROOT, startHaproxy, startNginx } from "./targets";

export const KEY_TYPES = ["ecdsa", "rsa"] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export const SERVERNAME = "bench.test";

export interface BenchCert {
  readonly type: KeyType;
  readonly certFile: string;
  readonly keyFile: string;
  /** Certificate and key in one file, as HAProxy's `crt` wants. */
  readonly pemFile: string;
  readonly chainPem: string;
  readonly keyPem: string;
  readonly fingerprint: string;
}

const KEY_ARGS: Record<KeyType, string[]> = {
  ecdsa: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"],
  rsa: ["-newkey", "rsa:2048"],
};

/** A self-signed certificate for SERVERNAME, as an operator would make it with openssl. */
export function makeCert(dir: string, type: KeyType): BenchCert {
  const certFile = join(dir, `${type}.crt`);
  const keyFile = join(dir, `${type}.key`);
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      ...KEY_ARGS[type],
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      "2",
      "-subj",
      `/CN=${SERVERNAME}`,
      "-addext",
      `subjectAltName=DNS:${SERVERNAME}`,
    ],
    // openssl's key-generation progress dots stay out of the bench output.
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const chainPem = readFileSync(certFile, "utf8");
  const keyPem = readFileSync(keyFile, "utf8");
  const pemFile = join(dir, `${type}.pem`);
  writeFileSync(pemFile, chainPem + keyPem);
  const fingerprint = createHash("sha256").update(new X509Certificate(chainPem).raw).digest("hex");
  return { type, certFile, keyFile, pemFile, chainPem, keyPem, fingerprint };
}

/** The agent with one TLS listener per certificate (`ports[i]` serves `certs[i]`). */
export function startTlsAgent(
  dir: string,
  certs: readonly BenchCert[],
  ports: readonly number[],
  backendPort: number,
  agentBin = join(REPO_ROOT, "apps/agent/bin/fulcrum-agent.js"),
  /** The listeners' `http2` (bench/proxy/h2.ts: ALPN h2); absent: HTTP/1.1 only. */
  http2?: Record<string, unknown>,
): Started {
  mkdirSync(dir, { recursive: true });
  const config = {
    snapshot: {
      version: 1,
      hash: "0".repeat(64),
      clusterId: "bench",
      createdAt: new Date().toISOString(),
      certificates: certs.map((c) => ({
        id: c.type,
        fingerprint: c.fingerprint,
        names: [SERVERNAME],
        notAfter: "2100-01-01T00:00:00Z",
      })),
      listeners: certs.map((c, i) => ({
        id: `l-${c.type}`,
        name: `bench-https-${c.type}`,
        protocol: "http",
        bindAddress: "127.0.0.1",
        port: ports[i],
        tls: { certificateIds: [c.type], defaultCertificateId: c.type },
        ...(http2 ? { http2 } : {}),
        routes: [{ id: `r-${c.type}`, host: "", pathPrefix: "/", priority: 0, poolId: "p" }],
      })),
      pools: [
        {
          id: "p",
          name: "p",
          policy: "round_robin",
          policyOptions: {},
          healthCheck: {},
          persistence: {},
          backends: [
            {
              id: "b",
              name: "b",
              address: "127.0.0.1",
              port: backendPort,
              weight: 1,
              state: "enabled",
              backup: false,
            },
          ],
        },
      ],
    },
    tlsMaterial: certs.map((c) => ({
      id: c.type,
      fingerprint: c.fingerprint,
      chainPem: c.chainPem,
      keyPem: c.keyPem,
    })),
  };
  const file = join(dir, "config.json");
  writeFileSync(file, JSON.stringify(config));
  // One worker: per-core speed, as the other targets (bench/proxy/workers.ts scales).
  return start(
    "agent",
    process.execPath,
    [agentBin, "--config", file, "--workers", "1"],
    join(dir, "agent.log"),
    {
      ...process.env,
      FULCRUM_LOG_LEVEL: "warn",
    },
  );
}

/** nginx, 1 worker, one `listen ... ssl` server per certificate, TLS 1.2 and 1.3; `h2`: `listen … ssl http2` (nginx 1.22's spelling). */
export function startTlsNginx(
  dir: string,
  certs: readonly BenchCert[],
  ports: readonly number[],
  backendPort: number,
  h2 = false,
): Started {
  const plain = nginxProxyConf(dir, ports[0]!, [backendPort]);
  const serverStart = plain.indexOf("  server {");
  const serverEnd = plain.lastIndexOf("}", plain.lastIndexOf("}") - 1) + 1;
  const template = plain.slice(serverStart, serverEnd);
  const servers = certs.map((c, i) =>
    template.replace(
      `listen 127.0.0.1:${ports[0]} backlog=4096;`,
      `listen 127.0.0.1:${ports[i]} ssl${h2 ? " http2" : ""} backlog=4096;
    ssl_certificate ${c.certFile};
    ssl_certificate_key ${c.keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;`,
    ),
  );
  return startNginx("nginx", dir, plain.slice(0, serverStart) + servers.join("\n") + plain.slice(serverEnd));
}

/** HAProxy, nbthread 1, http mode, one `bind ... ssl crt` frontend per certificate; `h2`: ALPN h2,http/1.1. */
export function startTlsHaproxy(
  dir: string,
  certs: readonly BenchCert[],
  ports: readonly number[],
  backendPort: number,
  h2 = false,
): Started {
  const frontends = certs
    .map(
      (c, i) => `frontend fe-${c.type}
  bind 127.0.0.1:${ports[i]} ssl crt ${c.pemFile} alpn ${h2 ? "h2,http/1.1" : "http/1.1"} ssl-min-ver TLSv1.2 backlog 4096
  default_backend be
`,
    )
    .join("\n");
  return startHaproxy(
    "haproxy",
    dir,
    `global
  nbthread 1
  maxconn 4000
  tune.bufsize 16384

defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
  option http-keep-alive
  option forwardfor
  maxconn 4000

${frontends}
backend be
  http-reuse always
  server b1 127.0.0.1:${backendPort}
`,
  );
}
