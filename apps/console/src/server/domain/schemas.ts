import {
  backendTlsSchema,
  consistentHashOptionsSchema,
  dnsListenerSettingsSchema,
  healthCheckSchema,
  isAbsolutePath,
  isPrintableText,
  listenerHttp2Schema,
  listenerSettingsSchema,
  MAX_HSTS_MAX_AGE_SECONDS,
  MAX_LISTENER_CERTIFICATES,
  outlierDetectionSchema,
  persistenceSchema,
  policyOptionsSchema,
  policySchema,
  poolLimitsSchema,
  poolUpstreamSchema,
  publicBaseUrlSchema,
  REDIRECT_LOOP_GUARD_DEFAULT,
  ROUTE_ACTIONS,
  retriesSchema,
  TLS_MIN_VERSIONS,
} from "@fulcrum/protocol";
import { z } from "zod";

/**
 * Input schemas for every topology write. They are the single source of the
 * rules a form shows, and their messages are written for people.
 */
export const idSchema = z.string().uuid("That id is not valid.");

/**
 * Free text must be printable: no control characters (C0 with NUL, DEL, C1),
 * Unicode line separators or lone surrogates (packages/protocol's grammar).
 * Numbers are JSON numbers: no schema here coerces, so "0x50", "", null, []
 * and true are refused rather than read as 80, 0 or 1.
 */
export const NO_CONTROL_CHARACTERS = "Remove control characters (such as NUL or line breaks).";
export const isPrintable = (v: string): boolean => isPrintableText(v, Number.POSITIVE_INFINITY);
/** Free text for people (names, descriptions): any printable characters, up to `max`. */
export function plainText(max: number) {
  return z
    .string()
    .refine(isPrintable, NO_CONTROL_CHARACTERS)
    .transform((v) => v.trim())
    .pipe(z.string().max(max, `Keep it to ${max} characters.`));
}

export const nameSchema = z
  .string()
  .trim()
  .min(1, "Give it a name.")
  .max(63, "Keep names to 63 characters.")
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    "Use letters, digits, dots, dashes and underscores; start with a letter or digit.",
  );

export const portSchema = z
  .number({ message: "Enter a port number." })
  .int("A port is a whole number.")
  .min(1, "Ports run from 1 to 65535.")
  .max(65535, "Ports run from 1 to 65535.");

const dottedNumbers = /^[0-9.]+$/;
/** IPv4, IPv6 or a DNS hostname; "300.1.1.1" is refused rather than treated as a hostname. */
export const addressSchema = z
  .string()
  .trim()
  .min(1, "Enter an address.")
  .max(253, "That address is too long.")
  .refine(
    (v) =>
      z.ipv6().safeParse(v).success ||
      (dottedNumbers.test(v) ? z.ipv4().safeParse(v).success : z.hostname().safeParse(v).success),
    "Enter an IPv4 address, an IPv6 address or a hostname.",
  );

export const bindAddressSchema = addressSchema;

export const WEIGHT_MIN = 0;
export const WEIGHT_MAX = 256;
export const weightSchema = z
  .number({ message: "Enter a weight." })
  .int("A weight is a whole number.")
  .min(WEIGHT_MIN, `Weights run from ${WEIGHT_MIN} to ${WEIGHT_MAX}.`)
  .max(WEIGHT_MAX, `Weights run from ${WEIGHT_MIN} to ${WEIGHT_MAX}.`);

const isHostname = (v: string) => z.hostname().safeParse(v).success && !v.includes("*");
/** "" (any host), a hostname, or "*.suffix" (DNS listeners only: routes.ts checks the listener's protocol). */
export const hostMatchSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .transform((v) => (v.endsWith(".") ? v.slice(0, -1) : v))
  .refine(
    (v) =>
      v === "" || isHostname(v) || (v.startsWith("*.") && isHostname(v.slice(2)) && v.slice(2).includes(".")),
    "Enter a hostname (or *.example.com on a DNS listener), or leave empty to match any host.",
  );

export const pathPrefixSchema = z
  .string()
  .trim()
  .min(1, "Enter a path prefix such as /.")
  .max(1024)
  .startsWith("/", "A path prefix starts with /.")
  .refine(
    (v) => isAbsolutePath(v),
    "Use a path without spaces, control characters, '?', '#' or non-ASCII (escape others as %XX).",
  );

export const clusterInput = z.object({ name: nameSchema });

export const LISTENER_PROTOCOLS = ["http", "tcp", "dns"] as const;
export type ListenerProtocolInput = (typeof LISTENER_PROTOCOLS)[number];

/** A dns listener's settings: packages/protocol dnsListenerSettingsSchema's bounds, with messages for people. */
const DNS_DEFAULTS = dnsListenerSettingsSchema.parse({});
export const dnsSettingsInput = z.object({
  ttlSeconds: z
    .number({ message: "Enter a TTL in seconds." })
    .int("A TTL is a whole number of seconds.")
    .min(0, "The TTL runs from 0 to 300 seconds.")
    .max(300, "The TTL runs from 0 to 300 seconds: longer and resolvers keep a dead backend's address.")
    .default(DNS_DEFAULTS.ttlSeconds),
  maxAnswers: z
    .number({ message: "Enter how many addresses an answer may hold." })
    .int("Enter a whole number.")
    .min(1, "An answer holds 1 to 16 addresses.")
    .max(16, "An answer holds 1 to 16 addresses.")
    .default(DNS_DEFAULTS.maxAnswers),
  transport: z
    .enum(["udp", "tcp", "both"], { message: "Choose UDP, TCP or both." })
    .default(DNS_DEFAULTS.transport),
  maxConnections: z
    .number({ message: "Enter a connection limit." })
    .int("Enter a whole number.")
    .min(1, "Allow 1 to 100000 TCP connections.")
    .max(100_000, "Allow 1 to 100000 TCP connections.")
    .default(DNS_DEFAULTS.maxConnections),
  tcpIdleMs: z
    .number({ message: "Enter a timeout in ms." })
    .int("Enter a whole number of ms.")
    .min(100, "The TCP idle timeout runs from 100 to 600000 ms.")
    .max(600_000, "The TCP idle timeout runs from 100 to 600000 ms.")
    .default(DNS_DEFAULTS.tcpIdleMs),
});

/** Settings are shaped by the protocol: HTTP timeouts mean nothing to a dns listener, and the reverse. */
export function settingsSchemaFor(protocol: ListenerProtocolInput) {
  return protocol === "dns" ? dnsSettingsInput : listenerSettingsSchema;
}

/** Adds the settings' issues under "settings.*", so forms put them next to their inputs. */
function checkSettings(
  v: { protocol?: ListenerProtocolInput | undefined; settings?: Record<string, unknown> | undefined },
  ctx: z.RefinementCtx,
) {
  if (v.protocol === undefined || v.settings === undefined) return;
  const parsed = settingsSchemaFor(v.protocol).safeParse(v.settings);
  for (const issue of parsed.error?.issues ?? []) {
    ctx.addIssue({ code: "custom", message: issue.message, path: ["settings", ...issue.path.map(String)] });
  }
}

/**
 * TLS on an http listener (packages/protocol listenerTlsSchema, with messages
 * for people). Certificates are ids of the cluster's certificates: one that is
 * not (deleted, another cluster's) is refused by the snapshot gate, naming it.
 */
export const listenerTlsInput = z
  .object({
    certificateIds: z
      .array(idSchema)
      .min(1, "Choose at least one certificate.")
      .max(MAX_LISTENER_CERTIFICATES, `A listener serves at most ${MAX_LISTENER_CERTIFICATES} certificates.`)
      .refine((ids) => new Set(ids).size === ids.length, "Choose each certificate once."),
    defaultCertificateId: idSchema,
    unknownName: z.enum(["default", "reject"], { message: "Choose default or reject." }).default("default"),
    minVersion: z.enum(TLS_MIN_VERSIONS, { message: "Choose TLSv1.2 or TLSv1.3." }).default("TLSv1.2"),
    hsts: z
      .object({
        maxAgeSeconds: z
          .number({ message: "Enter a number of seconds." })
          .int("Enter whole seconds.")
          .min(0, `HSTS max-age runs from 0 to ${MAX_HSTS_MAX_AGE_SECONDS} s (two years).`)
          .max(
            MAX_HSTS_MAX_AGE_SECONDS,
            `HSTS max-age runs from 0 to ${MAX_HSTS_MAX_AGE_SECONDS} s (two years).`,
          ),
        includeSubDomains: z.boolean().default(false),
        preload: z.boolean().default(false),
      })
      .nullable()
      .default(null),
  })
  .superRefine((v, ctx) => {
    if (!v.certificateIds.includes(v.defaultCertificateId)) {
      ctx.addIssue({
        code: "custom",
        path: ["defaultCertificateId"],
        message: "Choose the default among the listener's certificates.",
      });
    }
  })
  .transform((v) => ({ ...v, alpn: ["http/1.1"] as ["http/1.1"] }));

/** TLS and HTTP/2 belong to http listeners; the redirect to HTTPS to plain http ones (the snapshot gate checks again). */
function checkTls(
  v: {
    protocol?: ListenerProtocolInput | undefined;
    tls?: unknown;
    http2?: unknown;
    settings?: Record<string, unknown> | undefined;
  },
  ctx: z.RefinementCtx,
) {
  if (v.tls && v.protocol !== undefined && v.protocol !== "http") {
    ctx.addIssue({ code: "custom", path: ["tls"], message: "Only HTTP listeners terminate TLS." });
  }
  if (v.http2 && v.protocol !== undefined && v.protocol !== "http") {
    ctx.addIssue({ code: "custom", path: ["http2"], message: "Only HTTP listeners speak HTTP/2." });
  }
  if (!v.settings?.redirectToHttps) return;
  if (v.protocol !== undefined && v.protocol !== "http") {
    ctx.addIssue({
      code: "custom",
      path: ["settings", "redirectToHttps"],
      message: "Only HTTP listeners redirect to HTTPS.",
    });
  } else if (v.tls) {
    ctx.addIssue({
      code: "custom",
      path: ["settings", "redirectToHttps"],
      message: "A listener that terminates TLS does not redirect to HTTPS: turn one of them off.",
    });
  }
}

const listenerFields = z.object({
  clusterId: idSchema,
  name: nameSchema,
  protocol: z.enum(LISTENER_PROTOCOLS, { message: "Choose HTTP, TCP or DNS." }).default("http"),
  bindAddress: bindAddressSchema.default("0.0.0.0"),
  port: portSchema,
  settings: z.record(z.string(), z.unknown()).default({}),
  /** null: plain HTTP. */
  tls: listenerTlsInput.nullable().default(null),
  /** null: HTTP/1.1 only. The protocol's bounds (packages/protocol http2.ts). */
  http2: listenerHttp2Schema.nullable().default(null),
});
export const listenerInput = listenerFields
  .superRefine(checkSettings)
  .superRefine(checkTls)
  .transform((v) => ({ ...v, settings: settingsSchemaFor(v.protocol).parse(v.settings) }));
/**
 * Updates change only the fields they name. (zod 4 applies a field's default
 * even under .partial(), so update schemas are spelled out without defaults:
 * otherwise "drain this backend" would also reset its weight.)
 * Without protocol, settings are checked against the stored protocol by the domain (listeners.ts).
 */
export const listenerUpdate = z
  .object({
    id: idSchema,
    name: nameSchema.optional(),
    protocol: listenerFields.shape.protocol.unwrap().optional(),
    bindAddress: bindAddressSchema.optional(),
    port: portSchema.optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
    /** null turns TLS off; absent leaves it as it is. */
    tls: listenerTlsInput.nullable().optional(),
    /** null turns HTTP/2 off; absent leaves it as it is. */
    http2: listenerHttp2Schema.nullable().optional(),
  })
  .superRefine(checkSettings)
  .superRefine(checkTls);

export const redirectInput = z.object({
  status: z
    .number()
    .refine((n) => n === 302 || n === 307, "Choose 302 or 307.")
    .transform((n) => n as 302 | 307)
    .default(302),
  loopGuard: z
    .string()
    .trim()
    .min(1, "Name the query parameter that marks a redirected request.")
    .max(64, "Keep it to 64 characters.")
    .regex(/^[A-Za-z0-9_.-]+$/, "Use letters, digits, dots, dashes and underscores.")
    .default(REDIRECT_LOOP_GUARD_DEFAULT),
});

export const routeInput = z.object({
  listenerId: idSchema,
  host: hostMatchSchema.default(""),
  pathPrefix: pathPrefixSchema.default("/"),
  priority: z.number().int().min(-1000).max(1000).default(0),
  poolId: idSchema,
  action: z.enum(ROUTE_ACTIONS, { message: "Choose proxy or redirect." }).default("proxy"),
  redirect: redirectInput.default({ status: 302, loopGuard: REDIRECT_LOOP_GUARD_DEFAULT }),
});
export const routeUpdate = z.object({
  id: idSchema,
  host: hostMatchSchema.optional(),
  pathPrefix: pathPrefixSchema.optional(),
  priority: routeInput.shape.priority.unwrap().optional(),
  poolId: idSchema.optional(),
  action: routeInput.shape.action.unwrap().optional(),
  redirect: redirectInput.optional(),
});

const poolFields = z.object({
  clusterId: idSchema,
  name: nameSchema,
  policy: policySchema.default("round_robin"),
  /** The protocol's bounds (small, shallow JSON: agents NACK more); consistent_hash's fields: checkPolicyOptions. */
  policyOptions: policyOptionsSchema.default({}),
  healthCheck: healthCheckSchema.default(healthCheckSchema.parse({})),
  persistence: persistenceSchema.default(persistenceSchema.parse({})),
  slowStartMs: z.number().int().min(0, "Slow start cannot be negative.").max(3_600_000).default(0),
  outlierDetection: outlierDetectionSchema.default(outlierDetectionSchema.parse({})),
  retries: retriesSchema.default(retriesSchema.parse({})),
  limits: poolLimitsSchema.default(poolLimitsSchema.parse({})),
  /** TLS to the backends; null: plain TCP. Its CA bundle and client certificate must exist (the publish gate checks). */
  tls: backendTlsSchema.nullable().default(null),
  /** Protocol to the backends; null: HTTP/1.1. h2 needs `tls`, h2c refuses it (checkUpstream; the publish gate again). */
  upstream: poolUpstreamSchema.nullable().default(null),
});
/** Options are checked against the policy they belong to, and reported under `policyOptions.*`. */
function checkPolicyOptions(
  v: { policy?: string | undefined; policyOptions?: Record<string, unknown> | undefined },
  ctx: z.RefinementCtx,
) {
  if (v.policy !== "consistent_hash") return;
  const parsed = consistentHashOptionsSchema.safeParse(v.policyOptions ?? {});
  for (const issue of parsed.error?.issues ?? []) {
    ctx.addIssue({
      code: "custom",
      message: issue.message,
      path: ["policyOptions", ...issue.path.map(String)],
    });
  }
}

/** HTTP/2 over TLS needs the pool's TLS; h2c is HTTP/2 without it. The message for `upstream.protocol`, or undefined. */
export function upstreamTlsProblem(protocol: string | undefined, hasTls: boolean): string | undefined {
  if (protocol === "h2" && !hasTls) {
    return "HTTP/2 over TLS needs TLS to backends: turn it on, or choose h2c for HTTP/2 without TLS.";
  }
  if (protocol === "h2c" && hasTls) {
    return "h2c is HTTP/2 without TLS: choose HTTP/2 over TLS, or turn TLS to backends off.";
  }
  return undefined;
}

/** Checked here when both are given; an update naming one of them is checked against the stored other (updatePool). */
function checkUpstream(
  v: { tls?: unknown; upstream?: { protocol: string } | null | undefined },
  ctx: z.RefinementCtx,
) {
  if (v.tls === undefined || v.upstream === undefined) return;
  const message = upstreamTlsProblem(v.upstream?.protocol, Boolean(v.tls));
  if (message) ctx.addIssue({ code: "custom", path: ["upstream", "protocol"], message });
}

export const poolInput = poolFields.superRefine(checkPolicyOptions).superRefine(checkUpstream);
/** Changes only the fields it names (see listenerUpdate: .partial() would apply every default). */
export const poolUpdate = z
  .object({
    id: idSchema,
    name: nameSchema.optional(),
    policy: poolFields.shape.policy.unwrap().optional(),
    policyOptions: poolFields.shape.policyOptions.unwrap().optional(),
    healthCheck: poolFields.shape.healthCheck.unwrap().optional(),
    persistence: poolFields.shape.persistence.unwrap().optional(),
    slowStartMs: poolFields.shape.slowStartMs.unwrap().optional(),
    outlierDetection: poolFields.shape.outlierDetection.unwrap().optional(),
    retries: poolFields.shape.retries.unwrap().optional(),
    limits: poolFields.shape.limits.unwrap().optional(),
    /** null turns TLS off; absent leaves it as it is. */
    tls: backendTlsSchema.nullable().optional(),
    /** null: HTTP/1.1; absent leaves it as it is. */
    upstream: poolUpstreamSchema.nullable().optional(),
  })
  .superRefine(checkPolicyOptions)
  .superRefine(checkUpstream);

const publicBaseUrlInput = z
  .string()
  .trim()
  .max(2048, "That URL is too long.")
  .nullable()
  .transform((v) => (v === "" ? null : v))
  .refine(
    (v) => v === null || publicBaseUrlSchema.safeParse(v).success,
    "Enter an http:// or https:// URL without a query or fragment, such as https://mirror1.example.com/pub.",
  );

export const backendInput = z.object({
  poolId: idSchema,
  name: plainText(63).default(""),
  address: addressSchema,
  port: portSchema,
  weight: weightSchema.default(100),
  state: z.enum(["enabled", "draining", "disabled"]).default("enabled"),
  backup: z.boolean().default(false),
  maxConnections: z
    .number()
    .int()
    .min(1, "Leave empty for no limit, or enter at least 1.")
    .max(1_000_000, "Allow at most 1000000 connections.")
    .nullable()
    .default(null),
  /** Empty means none; required (checked at compile) when a redirect route uses the pool. */
  publicBaseUrl: publicBaseUrlInput.default(null),
});
export const backendUpdate = z.object({
  id: idSchema,
  name: backendInput.shape.name.unwrap().optional(),
  address: addressSchema.optional(),
  port: portSchema.optional(),
  weight: weightSchema.optional(),
  state: backendInput.shape.state.unwrap().optional(),
  backup: z.boolean().optional(),
  maxConnections: backendInput.shape.maxConnections.unwrap().optional(),
  publicBaseUrl: publicBaseUrlInput.optional(),
});

export const byId = z.object({ id: idSchema });
export const byCluster = z.object({ clusterId: idSchema });
