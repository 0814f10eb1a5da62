import {
  consistentHashOptionsSchema,
  healthCheckSchema,
  listenerSettingsSchema,
  outlierDetectionSchema,
  persistenceSchema,
  policySchema,
  poolLimitsSchema,
  retriesSchema,
} from "@fulcrum/protocol";
import { z } from "zod";

/**
 * Input schemas for every topology write. They are the single source of the
 * rules a form shows, and their messages are written for people.
 */
export const idSchema = z.string().uuid("That id is not valid.");

export const nameSchema = z
  .string()
  .trim()
  .min(1, "Give it a name.")
  .max(63, "Keep names to 63 characters.")
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    "Use letters, digits, dots, dashes and underscores; start with a letter or digit.",
  );

export const portSchema = z.coerce
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
export const weightSchema = z.coerce
  .number({ message: "Enter a weight." })
  .int("A weight is a whole number.")
  .min(WEIGHT_MIN, `Weights run from ${WEIGHT_MIN} to ${WEIGHT_MAX}.`)
  .max(WEIGHT_MAX, `Weights run from ${WEIGHT_MIN} to ${WEIGHT_MAX}.`);

export const hostMatchSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .refine(
    (v) => v === "" || z.hostname().safeParse(v).success,
    "Enter a hostname, or leave empty to match any host.",
  );

export const pathPrefixSchema = z
  .string()
  .trim()
  .min(1, "Enter a path prefix such as /.")
  .max(1024)
  .startsWith("/", "A path prefix starts with /.");

export const clusterInput = z.object({ name: nameSchema });

export const listenerInput = z.object({
  clusterId: idSchema,
  name: nameSchema,
  protocol: z.enum(["http", "tcp"]).default("http"),
  bindAddress: bindAddressSchema.default("0.0.0.0"),
  port: portSchema,
  settings: listenerSettingsSchema.default(listenerSettingsSchema.parse({})),
});
export const listenerUpdate = listenerInput.omit({ clusterId: true }).partial().extend({ id: idSchema });

export const routeInput = z.object({
  listenerId: idSchema,
  host: hostMatchSchema.default(""),
  pathPrefix: pathPrefixSchema.default("/"),
  priority: z.coerce.number().int().min(-1000).max(1000).default(0),
  poolId: idSchema,
});
export const routeUpdate = routeInput.omit({ listenerId: true }).partial().extend({ id: idSchema });

const poolFields = z.object({
  clusterId: idSchema,
  name: nameSchema,
  policy: policySchema.default("round_robin"),
  policyOptions: z.record(z.string(), z.unknown()).default({}),
  healthCheck: healthCheckSchema.default(healthCheckSchema.parse({})),
  persistence: persistenceSchema.default(persistenceSchema.parse({})),
  slowStartMs: z.coerce.number().int().min(0, "Slow start cannot be negative.").max(3_600_000).default(0),
  outlierDetection: outlierDetectionSchema.default(outlierDetectionSchema.parse({})),
  retries: retriesSchema.default(retriesSchema.parse({})),
  limits: poolLimitsSchema.default(poolLimitsSchema.parse({})),
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

export const poolInput = poolFields.superRefine(checkPolicyOptions);
export const poolUpdate = poolFields
  .omit({ clusterId: true })
  .partial()
  .extend({ id: idSchema })
  .superRefine(checkPolicyOptions);

export const backendInput = z.object({
  poolId: idSchema,
  name: z.string().trim().max(63).default(""),
  address: addressSchema,
  port: portSchema,
  weight: weightSchema.default(100),
  state: z.enum(["enabled", "draining", "disabled"]).default("enabled"),
  backup: z.boolean().default(false),
  maxConnections: z.coerce
    .number()
    .int()
    .min(1, "Leave empty for no limit, or enter at least 1.")
    .nullable()
    .default(null),
});
export const backendUpdate = backendInput.omit({ poolId: true }).partial().extend({ id: idSchema });

export const byId = z.object({ id: idSchema });
export const byCluster = z.object({ clusterId: idSchema });
