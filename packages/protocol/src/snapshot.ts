import { z } from "zod";

export const POLICIES = [
  "round_robin",
  "weighted_round_robin",
  "random",
  "weighted_random",
  "least_connections",
  "power_of_two",
  "least_response_time",
  "source_ip_hash",
  "consistent_hash",
  "first_available",
] as const;
export const policySchema = z.enum(POLICIES);
export type Policy = z.infer<typeof policySchema>;

/** policyOptions of a consistent_hash pool. */
export const consistentHashOptionsSchema = z
  .object({
    key: z.enum(["client_ip", "header", "cookie", "path"]).default("client_ip"),
    keyName: z.string().trim().min(1).max(128).optional(),
    algorithm: z.enum(["ring", "maglev"]).default("ring"),
  })
  .refine((o) => (o.key !== "header" && o.key !== "cookie") || Boolean(o.keyName), {
    message: "Name the header or cookie to hash on.",
    path: ["keyName"],
  });
export type ConsistentHashOptions = z.infer<typeof consistentHashOptionsSchema>;

export const backendStateSchema = z.enum(["enabled", "draining", "disabled"]);
export type BackendState = z.infer<typeof backendStateSchema>;

export const listenerProtocolSchema = z.enum(["http", "tcp", "dns"]);
export type ListenerProtocol = z.infer<typeof listenerProtocolSchema>;

export const healthCheckSchema = z.object({
  type: z.enum(["none", "http", "tcp"]).default("none"),
  intervalMs: z.number().int().min(100).max(3_600_000).default(5000),
  timeoutMs: z.number().int().min(50).max(60_000).default(2000),
  rise: z.number().int().min(1).max(100).default(2),
  fall: z.number().int().min(1).max(100).default(3),
  path: z.string().startsWith("/").default("/"),
  method: z.enum(["GET", "HEAD", "OPTIONS"]).default("GET"),
  expectStatus: z
    .tuple([z.number().int().min(100).max(599), z.number().int().min(100).max(599)])
    .default([200, 399]),
  expectBody: z.string().max(1024).optional(),
});
export type HealthCheck = z.infer<typeof healthCheckSchema>;

export const persistenceSchema = z.object({
  type: z.enum(["none", "cookie", "source_ip"]).default("none"),
  cookieName: z.string().min(1).max(64).default("FULCRUM_STICKY"),
  ttlSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .default(3600),
});
export type Persistence = z.infer<typeof persistenceSchema>;

/** Passive outlier detection: consecutive failures eject a backend for a growing time. */
export const outlierDetectionSchema = z.object({
  enabled: z.boolean().default(true),
  consecutiveFailures: z.number().int().min(1).max(1000).default(5),
  baseEjectionMs: z.number().int().min(100).max(3_600_000).default(30_000),
  maxEjectionMs: z.number().int().min(100).max(86_400_000).default(300_000),
  /** Never eject more than this share of a pool's backends. */
  maxEjectedPercent: z.number().int().min(0).max(100).default(50),
});
export type OutlierDetection = z.infer<typeof outlierDetectionSchema>;

/** Retries of a failed connect, or of an idempotent request that failed before any response byte. */
export const retriesSchema = z.object({
  enabled: z.boolean().default(true),
  attempts: z.number().int().min(0).max(5).default(1),
  /** Retries allowed as a share of recent requests, so retries cannot multiply an outage. */
  budgetPercent: z.number().int().min(0).max(100).default(20),
});
export type Retries = z.infer<typeof retriesSchema>;

export const poolLimitsSchema = z.object({
  /** Per-backend connection limit; 0 = unlimited. A backend's own maxConnections wins. */
  maxConnectionsPerBackend: z.number().int().min(0).max(1_000_000).default(0),
  /** Requests waiting for a backend under its limit; beyond it they get 503. */
  queueSize: z.number().int().min(0).max(100_000).default(100),
  queueTimeoutMs: z.number().int().min(1).max(600_000).default(5000),
});
export type PoolLimits = z.infer<typeof poolLimitsSchema>;

export const listenerSettingsSchema = z.object({
  /** Keep the client's X-Forwarded-* (append) instead of overwriting them. */
  trustForwarded: z.boolean().default(false),
  maxConnections: z.number().int().min(1).max(1_000_000).default(50_000),
  maxHeaderBytes: z.number().int().min(1024).max(1_048_576).default(16_384),
  timeouts: z
    .object({
      connectMs: z.number().int().min(1).max(600_000).default(5000),
      /** Time for a client to send a complete request head (slowloris guard). */
      headMs: z.number().int().min(1).max(600_000).default(10_000),
      idleMs: z.number().int().min(1).max(3_600_000).default(60_000),
      /** Time for the backend to start its response. */
      responseMs: z.number().int().min(1).max(3_600_000).default(60_000),
      /** An HTTP client connection idle between requests is closed after this (nginx keepalive_timeout, HAProxy timeout http-keep-alive). */
      keepAliveMs: z.number().int().min(1).max(3_600_000).default(30_000),
      /** Longest pause between two reads of a request body (nginx client_body_timeout); 408 before the response started. */
      bodyMs: z.number().int().min(1).max(3_600_000).default(60_000),
    })
    .default({
      connectMs: 5000,
      headMs: 10_000,
      idleMs: 60_000,
      responseMs: 60_000,
      keepAliveMs: 30_000,
      bodyMs: 60_000,
    }),
  /** Largest request body in bytes; 0 = no limit. Over it: 413 (before forwarding when Content-Length says so). */
  maxBodyBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  /** Slowest request body accepted after a 5 s grace, in bytes per second (Kestrel MinRequestBodyDataRate); 0 = off. */
  minBodyBytesPerSecond: z.number().int().min(0).max(1_000_000_000).default(240),
});
export type ListenerSettings = z.infer<typeof listenerSettingsSchema>;

/**
 * Settings of a `dns` listener (instead of the HTTP/TCP ones: it proxies nothing).
 * The names it answers for are its routes' hosts (exact names or `*.suffix`), so
 * name → pool reuses the route table, its per-route stats and the pool foreign key.
 */
export const dnsListenerSettingsSchema = z.object({
  /** TTL of every answer, in seconds: short, so a backend taken out leaves resolver caches quickly. */
  ttlSeconds: z.number().int().min(0).max(300).default(10),
  /** A/AAAA records per answer at most, chosen by the pool's policy. */
  maxAnswers: z.number().int().min(1).max(16).default(1),
  /** Which sockets to open on the port. */
  transport: z.enum(["udp", "tcp", "both"]).default("both"),
  /** DNS-over-TCP: open connections at most. */
  maxConnections: z.number().int().min(1).max(100_000).default(1000),
  /** DNS-over-TCP: a connection with no complete query for this long is closed. */
  tcpIdleMs: z.number().int().min(100).max(600_000).default(10_000),
});
export type DnsListenerSettings = z.infer<typeof dnsListenerSettingsSchema>;

/** An absolute http(s) URL without query or fragment: the request's path and query are appended to it. */
export const publicBaseUrlSchema = z
  .string()
  .max(2048)
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === "http:" || u.protocol === "https:") && u.search === "" && u.hash === "";
    } catch {
      return false;
    }
  }, "Enter an http:// or https:// URL without a query or fragment.");

export const snapshotBackendSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  address: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  weight: z.number().int().min(0).max(256),
  state: backendStateSchema,
  backup: z.boolean(),
  /** null: the pool's maxConnectionsPerBackend applies. */
  maxConnections: z.number().int().min(1).max(1_000_000).nullable().default(null),
  /**
   * Where clients are sent by `redirect` routes (http/https, may carry a path
   * prefix; no query or fragment). null: not reachable by redirect.
   */
  publicBaseUrl: publicBaseUrlSchema.nullable().default(null),
});
export type SnapshotBackend = z.infer<typeof snapshotBackendSchema>;

export const snapshotPoolSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  policy: policySchema,
  policyOptions: z.record(z.string(), z.unknown()),
  healthCheck: healthCheckSchema,
  persistence: persistenceSchema,
  /** 0 = off: a backend that comes back takes its full weight at once. */
  slowStartMs: z.number().int().min(0).max(3_600_000).default(0),
  outlierDetection: outlierDetectionSchema.default(outlierDetectionSchema.parse({})),
  retries: retriesSchema.default(retriesSchema.parse({})),
  limits: poolLimitsSchema.default(poolLimitsSchema.parse({})),
  backends: z.array(snapshotBackendSchema),
});
export type SnapshotPool = z.infer<typeof snapshotPoolSchema>;

export const ROUTE_ACTIONS = ["proxy", "redirect"] as const;
export const routeActionSchema = z.enum(ROUTE_ACTIONS);
export type RouteAction = z.infer<typeof routeActionSchema>;

export const REDIRECT_LOOP_GUARD_DEFAULT = "fulcrum_redirected";
/** How a `redirect` route answers. */
export const redirectOptionsSchema = z.object({
  /** 302 lets clients turn a POST into a GET; 307 keeps the method and body. */
  status: z.union([z.literal(302), z.literal(307)]).default(302),
  /**
   * Query parameter added to the Location; a request that already carries it
   * was sent around once and gets 508 instead of a second redirect.
   */
  loopGuard: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_.-]+$/)
    .default(REDIRECT_LOOP_GUARD_DEFAULT),
});
export type RedirectOptions = z.infer<typeof redirectOptionsSchema>;

export const snapshotRouteSchema = z.object({
  id: z.string().min(1),
  /** "" matches any host. On a dns listener: the name served, exact or `*.suffix`. */
  host: z.string(),
  pathPrefix: z.string().startsWith("/"),
  priority: z.number().int(),
  poolId: z.string().min(1),
  /** proxy: forward to a backend; redirect: answer 302/307 to the chosen backend's publicBaseUrl. */
  action: routeActionSchema.default("proxy"),
  /** Present when action is redirect. */
  redirect: redirectOptionsSchema.optional(),
});
export type SnapshotRoute = z.infer<typeof snapshotRouteSchema>;

const listenerBase = {
  id: z.string().min(1),
  name: z.string().min(1),
  bindAddress: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  routes: z.array(snapshotRouteSchema),
};

/** http and tcp listeners: proxies with timeouts and limits. */
export const snapshotProxyListenerSchema = z.object({
  ...listenerBase,
  protocol: z.enum(["http", "tcp"]),
  settings: listenerSettingsSchema.default(listenerSettingsSchema.parse({})),
});
/** dns listeners: answer A/AAAA queries for their routes' names from the routes' pools. */
export const snapshotDnsListenerSchema = z.object({
  ...listenerBase,
  protocol: z.literal("dns"),
  settings: dnsListenerSettingsSchema.default(dnsListenerSettingsSchema.parse({})),
});
/** Settings are shaped by the protocol, so HTTP timeouts never apply to a dns listener. */
export const snapshotListenerSchema = z.discriminatedUnion("protocol", [
  snapshotProxyListenerSchema,
  snapshotDnsListenerSchema,
]);
export type SnapshotListener = z.infer<typeof snapshotListenerSchema>;
export type SnapshotProxyListener = z.infer<typeof snapshotProxyListenerSchema>;
export type SnapshotDnsListener = z.infer<typeof snapshotDnsListenerSchema>;

/** The compiled, self-contained configuration an agent runs. */
export const snapshotSchema = z
  .object({
    version: z.number().int().min(1),
    /** sha256 (hex) of the canonical JSON of listeners and pools. */
    hash: z.string().regex(/^[0-9a-f]{64}$/),
    clusterId: z.string().min(1),
    createdAt: z.string(),
    listeners: z.array(snapshotListenerSchema),
    pools: z.array(snapshotPoolSchema),
  })
  .superRefine((snap, ctx) => {
    const poolIds = new Set(snap.pools.map((p) => p.id));
    for (const [li, l] of snap.listeners.entries()) {
      for (const [ri, r] of l.routes.entries()) {
        if (r.action === "redirect" && l.protocol !== "http") {
          ctx.addIssue({
            code: "custom",
            path: ["listeners", li, "routes", ri, "action"],
            message: `route ${r.id}: redirect routes belong to http listeners`,
          });
        }
        if (!poolIds.has(r.poolId)) {
          ctx.addIssue({
            code: "custom",
            path: ["listeners", li, "routes", ri, "poolId"],
            message: `route ${r.id} points at pool ${r.poolId}, which is not in the snapshot`,
          });
        }
      }
    }
    const binds = new Set<string>();
    for (const [li, l] of snap.listeners.entries()) {
      const key = `${l.bindAddress}:${l.port}`;
      if (binds.has(key)) {
        ctx.addIssue({
          code: "custom",
          path: ["listeners", li, "port"],
          message: `two listeners bind ${key}`,
        });
      }
      binds.add(key);
    }
  });
export type Snapshot = z.infer<typeof snapshotSchema>;
/** A snapshot as written by hand or by tools: settings with defaults may be left out. */
export type SnapshotInput = z.input<typeof snapshotSchema>;
