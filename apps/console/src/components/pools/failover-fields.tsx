"use client";

import {
  type OutlierDetection,
  outlierDetectionSchema,
  type PoolLimits,
  poolLimitsSchema,
  type Retries,
  retriesSchema,
} from "@fulcrum/protocol";
import { numberOrUndefined } from "../../lib/validate";
import { CheckboxField, Fieldset, TextField } from "../form";

export interface FailoverSettings {
  slowStartMs: number;
  outlierDetection: OutlierDetection;
  retries: Retries;
  limits: PoolLimits;
}

/** Stored settings, with defaults for anything missing (older pools, hand-made rows). */
export function readFailover(pool?: {
  slowStartMs?: number;
  outlierDetection?: unknown;
  retries?: unknown;
  limits?: unknown;
}): FailoverSettings {
  return {
    slowStartMs: pool?.slowStartMs ?? 0,
    outlierDetection: outlierDetectionSchema
      .catch(outlierDetectionSchema.parse({}))
      .parse(pool?.outlierDetection ?? {}),
    retries: retriesSchema.catch(retriesSchema.parse({})).parse(pool?.retries ?? {}),
    limits: poolLimitsSchema.catch(poolLimitsSchema.parse({})).parse(pool?.limits ?? {}),
  };
}

const seconds = (ms: number) => String(ms / 1000);
const msFromSeconds = (v: FormDataEntryValue | null) => {
  const n = numberOrUndefined(v);
  return n === undefined ? undefined : Math.round(n * 1000);
};

/** Reads the fields below back from a submitted form. */
export function failoverFromForm(f: FormData, before: FailoverSettings): FailoverSettings {
  return {
    slowStartMs: msFromSeconds(f.get("slowStart")) ?? before.slowStartMs,
    outlierDetection: {
      ...before.outlierDetection,
      enabled: f.get("odEnabled") === "on",
      consecutiveFailures:
        numberOrUndefined(f.get("odFailures")) ?? before.outlierDetection.consecutiveFailures,
      baseEjectionMs: msFromSeconds(f.get("odBase")) ?? before.outlierDetection.baseEjectionMs,
      maxEjectedPercent:
        numberOrUndefined(f.get("odMaxPercent")) ?? before.outlierDetection.maxEjectedPercent,
    },
    retries: {
      ...before.retries,
      enabled: f.get("retryEnabled") === "on",
      attempts: numberOrUndefined(f.get("retryAttempts")) ?? before.retries.attempts,
      budgetPercent: numberOrUndefined(f.get("retryBudget")) ?? before.retries.budgetPercent,
    },
    limits: {
      maxConnectionsPerBackend:
        numberOrUndefined(f.get("maxConnsPerBackend")) ?? before.limits.maxConnectionsPerBackend,
      queueSize: numberOrUndefined(f.get("queueSize")) ?? before.limits.queueSize,
      queueTimeoutMs: numberOrUndefined(f.get("queueTimeout")) ?? before.limits.queueTimeoutMs,
    },
  };
}

export const FAILOVER_FIELDS = [
  "slowStartMs",
  "outlierDetection.enabled",
  "outlierDetection.consecutiveFailures",
  "outlierDetection.baseEjectionMs",
  "outlierDetection.maxEjectedPercent",
  "retries.enabled",
  "retries.attempts",
  "retries.budgetPercent",
  "limits.maxConnectionsPerBackend",
  "limits.queueSize",
  "limits.queueTimeoutMs",
] as const;

export function FailoverFields({
  value,
  errors,
}: {
  value: FailoverSettings;
  errors: Record<string, string>;
}) {
  const od = value.outlierDetection;
  return (
    <>
      <Fieldset legend="Failover">
        <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4">
          <TextField
            label="Slow start (s)"
            name="slowStart"
            type="number"
            min={0}
            step="any"
            defaultValue={seconds(value.slowStartMs)}
            error={errors.slowStartMs}
            hint="A backend that comes back ramps up to its full weight over this time. 0 = at once."
          />
          <TextField
            label="Eject after failures"
            name="odFailures"
            type="number"
            min={1}
            defaultValue={od.consecutiveFailures}
            error={errors["outlierDetection.consecutiveFailures"]}
            hint="Consecutive 5xx answers or failed connects that take a backend out of rotation."
          />
          <TextField
            label="First ejection (s)"
            name="odBase"
            type="number"
            min={0.1}
            step="any"
            defaultValue={seconds(od.baseEjectionMs)}
            error={errors["outlierDetection.baseEjectionMs"]}
            hint="Each further ejection lasts longer, up to 5 minutes by default."
          />
          <TextField
            label="Max ejected %"
            name="odMaxPercent"
            type="number"
            min={0}
            max={100}
            defaultValue={od.maxEjectedPercent}
            error={errors["outlierDetection.maxEjectedPercent"]}
            hint="Never eject more than this share of the pool."
          />
          <CheckboxField
            label="Passive outlier detection"
            name="odEnabled"
            defaultChecked={od.enabled}
            hint="Watch real traffic for failing backends, between active checks."
          />
          <TextField
            label="Retry attempts"
            name="retryAttempts"
            type="number"
            min={0}
            max={5}
            defaultValue={value.retries.attempts}
            error={errors["retries.attempts"]}
            hint="On another backend, after a failed connect or an idempotent request that got no answer."
          />
          <TextField
            label="Retry budget %"
            name="retryBudget"
            type="number"
            min={0}
            max={100}
            defaultValue={value.retries.budgetPercent}
            error={errors["retries.budgetPercent"]}
            hint="Retries allowed as a share of recent requests, so retries cannot multiply an outage."
          />
          <CheckboxField label="Retries" name="retryEnabled" defaultChecked={value.retries.enabled} />
        </div>
      </Fieldset>
      <Fieldset legend="Limits">
        <div className="grid gap-3 sm:grid-cols-3">
          <TextField
            label="Max connections per backend"
            name="maxConnsPerBackend"
            type="number"
            min={0}
            defaultValue={value.limits.maxConnectionsPerBackend}
            error={errors["limits.maxConnectionsPerBackend"]}
            hint="0 = unlimited. A backend's own limit wins."
          />
          <TextField
            label="Queue size"
            name="queueSize"
            type="number"
            min={0}
            defaultValue={value.limits.queueSize}
            error={errors["limits.queueSize"]}
            hint="Requests that wait for a backend under its limit; more get 503."
          />
          <TextField
            label="Queue timeout (ms)"
            name="queueTimeout"
            type="number"
            min={1}
            defaultValue={value.limits.queueTimeoutMs}
            error={errors["limits.queueTimeoutMs"]}
            hint="How long a queued request waits before it gets 503."
          />
        </div>
      </Fieldset>
    </>
  );
}
