import { z } from "zod";

/*
 * HTTP/2 and gRPC settings (issue 18). Three helpers code against these
 * names at once (front end, upstream, control): change them only through
 * the "Changes" section of the issue-18 brief.
 *
 * Both objects are optional on the snapshot and left out when unset, so
 * snapshots written before HTTP/2 keep their hashes.
 */

/** On an http listener. Absent or null: HTTP/1.1 only (older snapshot hashes hold). */
export const listenerHttp2Schema = z.object({
  /** TLS listeners: offer ALPN h2 (http/1.1 kept for clients that do not offer it). */
  h2: z.boolean().default(true),
  /** Plain listeners: accept HTTP/2 with prior knowledge (the client preface) next to HTTP/1.1. */
  h2c: z.boolean().default(false),
  maxConcurrentStreams: z.number().int().min(1).max(1000).default(100),
  /** Decoded header list size limit (HPACK bombs). */
  maxHeaderListBytes: z.number().int().min(1024).max(1_048_576).default(65_536),
  initialWindowBytes: z.number().int().min(65_535).max(16_777_215).default(1_048_576),
  /** Idle connection (no open stream) timeout; head timeout per stream reuses the listener's. */
  idleMs: z.number().int().min(1000).max(3_600_000).default(120_000),
});
export type ListenerHttp2 = z.infer<typeof listenerHttp2Schema>;

export const UPSTREAM_PROTOCOLS = ["http1", "h2", "h2c"] as const;
export type UpstreamProtocol = (typeof UPSTREAM_PROTOCOLS)[number];

/** On a pool. Absent: HTTP/1.1 to backends. */
export const poolUpstreamSchema = z.object({
  /** h2: HTTP/2 over TLS (ALPN h2), needs the pool's `tls`; h2c: HTTP/2 in clear text with prior knowledge. */
  protocol: z.enum(UPSTREAM_PROTOCOLS).default("http1"),
  /** Streams one upstream connection carries at once; more requests open another connection. */
  maxStreamsPerConnection: z.number().int().min(1).max(1000).default(100),
});
export type PoolUpstream = z.infer<typeof poolUpstreamSchema>;

export const MAX_GRPC_SERVICE_LENGTH = 200;

/**
 * A gRPC health service name as sent in grpc.health.v1.HealthCheckRequest:
 * "" (the whole server) or a dotted protobuf name such as `helloworld.Greeter`
 * (letters, digits, `_`, `.`, `-`, `/`). It is written into logs and
 * reasons, so nothing else: no spaces, quotes or control characters.
 */
export function isGrpcServiceName(s: string): boolean {
  return s.length <= MAX_GRPC_SERVICE_LENGTH && /^(?:[A-Za-z0-9_][A-Za-z0-9_./-]*)?$/.test(s);
}

export const grpcServiceSchema = z
  .string()
  .max(MAX_GRPC_SERVICE_LENGTH)
  .refine(
    isGrpcServiceName,
    "A gRPC service name is empty (the whole server) or letters, digits and _ . - / such as helloworld.Greeter.",
  );

/** The HTTP/2 front-end features (capability table keys) a proxy listener uses. */
export function http2FeaturesUsed(listener: {
  protocol: string;
  tls?: unknown;
  http2?: { h2: boolean; h2c: boolean } | null;
}): string[] {
  const h = listener.http2;
  if (listener.protocol !== "http" || !h) return [];
  if (listener.tls) return h.h2 ? ["listener:http2"] : [];
  return h.h2c ? ["listener:h2c"] : [];
}

/** The upstream-protocol and health-check features (capability table keys) a pool uses. */
export function upstreamFeaturesUsed(pool: {
  upstream?: { protocol: UpstreamProtocol } | null;
  healthCheck: { type: string };
}): string[] {
  const keys: string[] = [];
  if (pool.upstream?.protocol === "h2") keys.push("pool:upstream_h2");
  if (pool.upstream?.protocol === "h2c") keys.push("pool:upstream_h2c");
  if (pool.healthCheck.type === "grpc") keys.push("health:grpc");
  return keys;
}
