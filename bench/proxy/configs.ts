import type { Snapshot } from "@fulcrum/protocol";

/** A ~100-byte body, as in the speed facts. */
export const BODY = `${"x".repeat(99)}\n`;

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

function nginxMain(prefix: string, workers: number, http: string): string {
  return `${isRoot ? "user root root;\n" : ""}worker_processes ${workers};
worker_rlimit_nofile 16000;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events {
  worker_connections 8000;
  multi_accept on;
}
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp-body;
  proxy_temp_path ${prefix}/tmp-proxy;
  fastcgi_temp_path ${prefix}/tmp-fastcgi;
  uwsgi_temp_path ${prefix}/tmp-uwsgi;
  scgi_temp_path ${prefix}/tmp-scgi;
  keepalive_timeout 60s;
  keepalive_requests 1000000;
${http}
}
`;
}

/** A backend: one nginx worker answering every request with 200 and BODY, keep-alive. */
export function nginxBackendConf(prefix: string, port: number): string {
  return nginxMain(
    prefix,
    1,
    `  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      default_type text/plain;
      return 200 "${BODY.slice(0, -1)}\\n";
    }
  }`,
  );
}

/** nginx as the reference L7 proxy: 1 worker, round robin, upstream keep-alive, X-Forwarded-*. */
export function nginxProxyConf(prefix: string, port: number, backends: readonly number[]): string {
  return nginxMain(
    prefix,
    1,
    `  upstream be {
${backends.map((p) => `    server 127.0.0.1:${p};`).join("\n")}
    keepalive 256;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      proxy_pass http://be;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_buffering on;
    }
  }`,
  );
}

/** HAProxy with one thread, http or tcp mode, round robin over the backends. */
export function haproxyConf(mode: "http" | "tcp", port: number, backends: readonly number[]): string {
  const http = mode === "http";
  return `global
  nbthread 1
  maxconn 4000
  tune.bufsize 16384

defaults
  mode ${mode}
  timeout connect 5s
  timeout client 60s
  timeout server 60s
${http ? "  timeout http-keep-alive 60s\n  option http-keep-alive\n  option forwardfor\n" : ""}
frontend fe
  bind 127.0.0.1:${port} backlog 4096
  maxconn 4000
  default_backend be

backend be
  balance roundrobin
${http ? "  http-reuse always\n" : ""}${backends.map((p, i) => `  server b${i + 1} 127.0.0.1:${p}`).join("\n")}
`;
}

export interface AgentListenerSpec {
  readonly protocol: "http" | "tcp";
  readonly port: number;
}

/** A snapshot for the agent's standalone mode: each listener round-robins over the backends. */
export function agentSnapshot(
  listeners: readonly AgentListenerSpec[],
  backends: readonly number[],
): Snapshot {
  return {
    version: 1,
    hash: "0".repeat(64),
    clusterId: "bench",
    createdAt: new Date().toISOString(),
    listeners: listeners.map((l) => ({
      id: `l-${l.protocol}-${l.port}`,
      name: `bench-${l.protocol}-${l.port}`,
      protocol: l.protocol,
      bindAddress: "127.0.0.1",
      port: l.port,
      routes: [{ id: `r-${l.port}`, host: "", pathPrefix: "/", priority: 0, poolId: "bench-pool" }],
    })),
    pools: [
      {
        id: "bench-pool",
        name: "bench-pool",
        policy: "round_robin",
        policyOptions: {},
        healthCheck: {},
        persistence: {},
        backends: backends.map((p, i) => ({
          id: `b${i + 1}`,
          name: `backend-${i + 1}`,
          address: "127.0.0.1",
          port: p,
          weight: 1,
          state: "enabled",
          backup: false,
        })),
      },
    ],
  } as unknown as Snapshot;
}
