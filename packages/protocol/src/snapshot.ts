import { z } from "zod";
import { acmeChallengeSchema, MAX_ACME_CHALLENGES } from "./acme";
import { backendTlsSchema, MAX_SNAPSHOT_CA_BUNDLES, snapshotCaBundleSchema } from "./backend-tls";
import {
  isAbsolutePath,
  isCookieName,
  isHostOrIp,
  isId,
  isOriginForm,
  isPrintableText,
  isRouteHost,
  isUrlText,
  jsonWithin,
  MAX_DISPLAY_NAME_LENGTH,
  MAX_ID_LENGTH,
  MAX_PATH_PREFIX_LENGTH,
  MAX_REQUEST_TARGET_LENGTH,
  MAX_URL_LENGTH,
} from "./grammar";
import { grpcServiceSchema, listenerHttp2Schema, poolUpstreamSchema } from "./http2";
import { POLICY_FACTS, policySchema } from "./policies";
import {
  listenerTlsSchema,
  MAX_SNAPSHOT_CERTIFICATES,
  redirectToHttpsSchema,
  snapshotCertificateSchema,
} from "./tls";

/*
 * Every string below that reaches a header, a request line, a config file, a
 * socket call or a log line is checked for its grammar (grammar.ts), so a
 * snapshot that parses is one an agent can apply or refuse, never one that
 * crashes it or splits a response. The agent checks again where it uses them.
 */

/** Snapshot ids (listeners, routes, pools, backends, the cluster). */
export const snapshotIdSchema = z
  .string()
  .max(MAX_ID_LENGTH)
  .refine(isId, `Use 1-${MAX_ID_LENGTH} letters, digits and . _ ~ -`);

/** Names shown to people and written to logs: printable text, no control characters. */
const displayName = (min: number) =>
  z
    .string()
    .min(min)
    .max(MAX_DISPLAY_NAME_LENGTH)
    .refine(
      (v) => isPrintableText(v, MAX_DISPLAY_NAME_LENGTH),
      "Use printable text without control characters.",
    );

/** A cookie name (RFC 6265: a token), not one of the __Host-/__Secure- names that need the Secure attribute. */
export const cookieNameSchema = z
  .string()
  .min(1)
  .max(64)
  .refine(
    (v) => isCookieName(v),
    "A cookie name is a token: letters, digits and !#$%&'*+-.^_`|~ only (no __Host- or __Secure- prefix).",
  );

/** A health-check request target (RFC 9112 origin-form): no spaces, control characters, '#' or non-ASCII. */
export const requestTargetSchema = z
  .string()
  .min(1)
  .max(MAX_REQUEST_TARGET_LENGTH)
  .refine(
    (v) => isOriginForm(v),
    "Enter a path such as /healthz (an optional ?query; no spaces, '#' or non-ASCII; escape others as %XX).",
  );

/** A route's path prefix: an absolute path without query. */
export const pathPrefixGrammarSchema = z
  .string()
  .min(1)
  .max(MAX_PATH_PREFIX_LENGTH)
  .refine(
    (v) => isAbsolutePath(v),
    "A path prefix starts with / and has no spaces, '?', '#' or non-ASCII (escape others as %XX).",
  );

/** A route's host: "" (any), a host name or IP literal, or *.suffix. */
export const routeHostSchema = z
  .string()
  .max(253)
  .refine(isRouteHost, "Enter a host name (or *.example.com), or leave empty to match any host.");

/** An IP address or a host name (backend addresses, bind addresses). */
export const hostOrIpSchema = z
  .string()
  .min(1)
  .max(254)
  .refine(isHostOrIp, "Enter an IPv4 address, an IPv6 address or a host name.");

/** Bounds of a pool's policyOptions: small, shallow JSON (a 5,000-deep value is refused, not recursed into). */
export const POLICY_OPTIONS_BOUNDS = { maxDepth: 4, maxNodes: 64, maxStringLength: 256 } as const;
export const policyOptionsSchema = z
  .record(z.string().max(64), z.unknown())
  .refine(
    (v) => jsonWithin(v, POLICY_OPTIONS_BOUNDS),
    `Policy options are small JSON: at most ${POLICY_OPTIONS_BOUNDS.maxNodes} values, ${POLICY_OPTIONS_BOUNDS.maxDepth} levels deep, strings up to ${POLICY_OPTIONS_BOUNDS.maxStringLength} characters.`,
  );

export const backendStateSchema = z.enum(["enabled", "draining", "disabled"]);
export type BackendState = z.infer<typeof backendStateSchema>;

export const listenerProtocolSchema = z.enum(["http", "tcp", "dns"]);
export type ListenerProtocol = z.infer<typeof listenerProtocolSchema>;

export const healthCheckSchema = z.object({
  /** grpc: grpc.health.v1.Health/Check over HTTP/2 (TLS when the pool has TLS, else h2c). */
  type: z.enum(["none", "http", "tcp", "grpc"]).default("none"),
  intervalMs: z.number().int().min(100).max(3_600_000).default(5000),
  timeoutMs: z.number().int().min(50).max(60_000).default(2000),
  rise: z.number().int().min(1).max(100).default(2),
  fall: z.number().int().min(1).max(100).default(3),
  path: requestTargetSchema.default("/"),
  method: z.enum(["GET", "HEAD", "OPTIONS"]).default("GET"),
  expectStatus: z
    .tuple([z.number().int().min(100).max(599), z.number().int().min(100).max(599)])
    .default([200, 399]),
  /** A substring of the response body; printable text (it is also written into HAProxy's config). */
  expectBody: z
    .string()
    .max(1024)
    .refine((v) => isPrintableText(v, 1024), "Use printable text without control characters or line breaks.")
    .optional(),
  /** type grpc: the service asked about; "" or absent = the whole server. */
  grpcService: grpcServiceSchema.optional(),
});
export type HealthCheck = z.infer<typeof healthCheckSchema>;

export const persistenceSchema = z.object({
  type: z.enum(["none", "cookie", "source_ip"]).default("none"),
  cookieName: cookieNameSchema.default("FULCRUM_STICKY"),
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
  /**
   * Plain http listeners only: answer every request with a redirect to https on
   * this port (host, path and query kept). Absent or null: off. Left out rather
   * than defaulted, so snapshots without it hash as before.
   */
  redirectToHttps: redirectToHttpsSchema.nullable().optional(),
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
  .max(MAX_URL_LENGTH)
  .refine((v) => {
    // The raw text goes into Location headers: the URL parser would drop a CR LF that the header keeps.
    if (!isUrlText(v)) return false;
    try {
      const u = new URL(v);
      return (u.protocol === "http:" || u.protocol === "https:") && u.search === "" && u.hash === "";
    } catch {
      return false;
    }
  }, "Enter an http:// or https:// URL without a query or fragment.");

export const snapshotBackendSchema = z.object({
  id: snapshotIdSchema,
  /** "" when unnamed. */
  name: displayName(0),
  address: hostOrIpSchema,
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
  id: snapshotIdSchema,
  name: displayName(1),
  policy: policySchema,
  /** Checked against the policy too (snapshotSchema): they must parse by its options schema (policies.ts). */
  policyOptions: policyOptionsSchema,
  healthCheck: healthCheckSchema,
  persistence: persistenceSchema,
  /** 0 = off: a backend that comes back takes its full weight at once. */
  slowStartMs: z.number().int().min(0).max(3_600_000).default(0),
  outlierDetection: outlierDetectionSchema.default(outlierDetectionSchema.parse({})),
  retries: retriesSchema.default(retriesSchema.parse({})),
  limits: poolLimitsSchema.default(poolLimitsSchema.parse({})),
  /** TLS to the backends (backend-tls.ts). Absent or null: plain TCP. Left out when unset, so older hashes hold. */
  tls: backendTlsSchema.nullable().optional(),
  /** HTTP/1.1, HTTP/2 over TLS or h2c to the backends (http2.ts). Absent: HTTP/1.1, older hashes hold. */
  upstream: poolUpstreamSchema.optional(),
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
  id: snapshotIdSchema,
  /** "" matches any host. On a dns listener: the name served, exact or `*.suffix`. */
  host: routeHostSchema,
  pathPrefix: pathPrefixGrammarSchema,
  priority: z.number().int(),
  poolId: snapshotIdSchema,
  /** proxy: forward to a backend; redirect: answer 302/307 to the chosen backend's publicBaseUrl. */
  action: routeActionSchema.default("proxy"),
  /** Present when action is redirect. */
  redirect: redirectOptionsSchema.optional(),
});
export type SnapshotRoute = z.infer<typeof snapshotRouteSchema>;

const listenerBase = {
  id: snapshotIdSchema,
  name: displayName(1),
  bindAddress: hostOrIpSchema,
  port: z.number().int().min(1).max(65535),
  routes: z.array(snapshotRouteSchema),
};

/** http and tcp listeners: proxies with timeouts and limits. */
export const snapshotProxyListenerSchema = z.object({
  ...listenerBase,
  protocol: z.enum(["http", "tcp"]),
  settings: listenerSettingsSchema.default(listenerSettingsSchema.parse({})),
  /** http listeners only: terminate TLS (tls.ts). Absent or null: plain HTTP. */
  tls: listenerTlsSchema.nullable().optional(),
  /** http listeners only: HTTP/2 (ALPN h2 with TLS, h2c without; http2.ts). Absent or null: HTTP/1.1 only. */
  http2: listenerHttp2Schema.nullable().optional(),
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
    clusterId: snapshotIdSchema,
    createdAt: z
      .string()
      .max(64)
      .refine((v) => isPrintableText(v, 64), "createdAt is printable text"),
    listeners: z.array(snapshotListenerSchema),
    pools: z.array(snapshotPoolSchema),
    /** Certificates the listeners use, by reference (no key material: that travels as tlsMaterial). */
    certificates: z.array(snapshotCertificateSchema).max(MAX_SNAPSHOT_CERTIFICATES).default([]),
    /** ACME HTTP-01 tokens every plain http listener answers (acme.ts); the HAProxy engine refuses them. */
    acmeChallenges: z.array(acmeChallengeSchema).max(MAX_ACME_CHALLENGES).default([]),
    /** CA bundles the pools verify backends against, by reference (the PEM travels as caBundles next to the snapshot). */
    caBundles: z.array(snapshotCaBundleSchema).max(MAX_SNAPSHOT_CA_BUNDLES).default([]),
  })
  .superRefine((snap, ctx) => {
    for (const [pi, p] of snap.pools.entries()) {
      for (const issue of POLICY_FACTS[p.policy].options.safeParse(p.policyOptions).error?.issues ?? []) {
        ctx.addIssue({
          code: "custom",
          path: ["pools", pi, "policyOptions", ...issue.path.map(String)],
          message: `pool ${p.id}: ${issue.message}`,
        });
      }
    }
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
    checkTlsReferences(snap, ctx);
    checkHttp2(snap, ctx);
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

/** TLS only on http listeners, with certificates the snapshot lists once; redirectToHttps only on plain http. */
function checkTlsReferences(
  snap: {
    listeners: SnapshotListener[];
    pools: SnapshotPool[];
    certificates: Array<{ id: string }>;
    caBundles: Array<{ id: string }>;
  },
  ctx: z.RefinementCtx,
): void {
  const certIds = new Set<string>();
  for (const [ci, c] of snap.certificates.entries()) {
    if (certIds.has(c.id)) {
      ctx.addIssue({
        code: "custom",
        path: ["certificates", ci, "id"],
        message: `certificate ${c.id} is listed twice`,
      });
    }
    certIds.add(c.id);
  }
  checkPoolTlsReferences(snap, certIds, ctx);
  for (const [li, l] of snap.listeners.entries()) {
    if (l.protocol === "dns") continue;
    if (l.tls && l.protocol !== "http") {
      ctx.addIssue({
        code: "custom",
        path: ["listeners", li, "tls"],
        message: `listener ${l.id}: TLS belongs to http listeners`,
      });
    }
    for (const [ci, id] of (l.tls?.certificateIds ?? []).entries()) {
      if (!certIds.has(id)) {
        ctx.addIssue({
          code: "custom",
          path: ["listeners", li, "tls", "certificateIds", ci],
          message: `listener ${l.id} uses certificate ${id}, which is not in the snapshot`,
        });
      }
    }
    if (l.settings.redirectToHttps && (l.protocol !== "http" || l.tls)) {
      ctx.addIssue({
        code: "custom",
        path: ["listeners", li, "settings", "redirectToHttps"],
        message: `listener ${l.id}: only plain http listeners redirect to https`,
      });
    }
  }
}
/** A snapshot as written by hand or by tools: settings with defaults may be left out. */
export type SnapshotInput = z.input<typeof snapshotSchema>;

/** Pools' client certificates and CA bundles must be in the snapshot, each bundle listed once. */
function checkPoolTlsReferences(
  snap: { pools: SnapshotPool[]; caBundles: Array<{ id: string }> },
  certIds: ReadonlySet<string>,
  ctx: z.RefinementCtx,
): void {
  const bundleIds = new Set<string>();
  for (const [bi, b] of snap.caBundles.entries()) {
    if (bundleIds.has(b.id)) {
      ctx.addIssue({
        code: "custom",
        path: ["caBundles", bi, "id"],
        message: `CA bundle ${b.id} is listed twice`,
      });
    }
    bundleIds.add(b.id);
  }
  for (const [pi, p] of snap.pools.entries()) {
    const cert = p.tls?.clientCertificateId;
    if (cert && !certIds.has(cert)) {
      ctx.addIssue({
        code: "custom",
        path: ["pools", pi, "tls", "clientCertificateId"],
        message: `pool ${p.id} uses client certificate ${cert}, which is not in the snapshot`,
      });
    }
    const bundle = p.tls?.caBundleId;
    if (bundle && !bundleIds.has(bundle)) {
      ctx.addIssue({
        code: "custom",
        path: ["pools", pi, "tls", "caBundleId"],
        message: `pool ${p.id} uses CA bundle ${bundle}, which is not in the snapshot`,
      });
    }
  }
}

/**
 * HTTP/2 belongs to http listeners; an upstream protocol other than HTTP/1.1
 * belongs to pools that only http listeners route to; h2 runs over the pool's
 * TLS and h2c without it.
 */
function checkHttp2(
  snap: { listeners: SnapshotListener[]; pools: SnapshotPool[] },
  ctx: z.RefinementCtx,
): void {
  const behindTcp = new Set<string>();
  for (const [li, l] of snap.listeners.entries()) {
    if (l.protocol === "dns") continue;
    if (l.protocol === "tcp") for (const r of l.routes) behindTcp.add(r.poolId);
    if (l.http2 && l.protocol !== "http") {
      ctx.addIssue({
        code: "custom",
        path: ["listeners", li, "http2"],
        message: `listener ${l.id}: HTTP/2 belongs to http listeners, not ${l.protocol} ones`,
      });
    }
  }
  for (const [pi, p] of snap.pools.entries()) {
    const protocol = p.upstream?.protocol ?? "http1";
    if (protocol === "http1") continue;
    const path = ["pools", pi, "upstream", "protocol"];
    if (protocol === "h2" && !p.tls) {
      ctx.addIssue({
        code: "custom",
        path,
        message: `pool ${p.id}: upstream protocol h2 is HTTP/2 over TLS and needs the pool's TLS to backends; use h2c for HTTP/2 without TLS`,
      });
    }
    if (protocol === "h2c" && p.tls) {
      ctx.addIssue({
        code: "custom",
        path,
        message: `pool ${p.id}: upstream protocol h2c is HTTP/2 without TLS, but the pool has TLS to backends; use h2`,
      });
    }
    if (behindTcp.has(p.id)) {
      ctx.addIssue({
        code: "custom",
        path,
        message: `pool ${p.id}: a tcp listener routes to it, and a tcp listener forwards bytes, not HTTP/2 requests; keep the upstream protocol http1`,
      });
    }
  }
}
