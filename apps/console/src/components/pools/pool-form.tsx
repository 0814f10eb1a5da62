"use client";

import { POLICIES, POLICY_FACTS, type Policy } from "@fulcrum/protocol";
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import type { Pool } from "../../lib/api-types";
import { useTRPC } from "../../lib/trpc";
import { mergeErrors, numberOrUndefined, validate } from "../../lib/validate";
import { poolInput, poolUpdate } from "../../server/domain/schemas";
import { useChangeDialog } from "../changes/change-dialog";
import { Fieldset, FormActions, FormError, SelectField, TextField } from "../form";
import { Button } from "../ui";
import {
  BACKEND_TLS_FIELDS,
  BackendTlsFields,
  backendTlsFromForm,
  readBackendTls,
} from "./backend-tls-fields";
import { EngineSupportTable } from "./engine-support-table";
import { FAILOVER_FIELDS, FailoverFields, failoverFromForm, readFailover } from "./failover-fields";
import { HashOptionsFields, hashOptionsFromForm, readHashOptions } from "./hash-options";
import { readHealthCheck, readPersistence } from "./policies";
import { readUpstream, UPSTREAM_FIELDS, UpstreamFields, upstreamFromForm } from "./upstream-fields";

const SHOWN = [
  "name",
  "policy",
  "healthCheck.type",
  "healthCheck.path",
  "healthCheck.grpcService",
  "healthCheck.intervalMs",
  "healthCheck.timeoutMs",
  "healthCheck.rise",
  "healthCheck.fall",
  "persistence.type",
  "persistence.cookieName",
  "policyOptions.keyName",
  ...FAILOVER_FIELDS,
  ...BACKEND_TLS_FIELDS,
  ...UPSTREAM_FIELDS,
] as const;

/** Create a pool (no `pool`) or edit one. */
export function PoolForm({
  clusterId,
  pool,
  onDone,
}: {
  clusterId: string;
  pool?: Pool;
  onDone: () => void;
}) {
  const trpc = useTRPC();
  const create = useMutation(trpc.pool.create.mutationOptions());
  const update = useMutation(trpc.pool.update.mutationOptions());
  const mutation = pool ? update : create;
  const hc0 = readHealthCheck(pool?.healthCheck);
  const ps0 = readPersistence(pool?.persistence);
  const fo0 = readFailover(pool);
  const [policy, setPolicy] = useState<Policy>((pool?.policy as Policy | undefined) ?? "round_robin");
  const [hcType, setHcType] = useState(hc0.type);
  const [psType, setPsType] = useState(ps0.type);
  const [clientErrors, setClientErrors] = useState<Record<string, string> | null>(null);
  const errors = mergeErrors(clientErrors, mutation.error);
  const change = useChangeDialog();

  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const healthCheck = {
      ...hc0,
      type: hcType,
      path: hcType === "http" ? String(f.get("hcPath") ?? "/") : hc0.path,
      // "" (the whole server) is the default: left out, so the stored check stays as short as before.
      ...(hcType === "grpc" && String(f.get("hcGrpcService") ?? "") !== ""
        ? { grpcService: String(f.get("hcGrpcService")).trim() }
        : { grpcService: undefined }),
      intervalMs: numberOrUndefined(f.get("hcInterval")) ?? hc0.intervalMs,
      timeoutMs: numberOrUndefined(f.get("hcTimeout")) ?? hc0.timeoutMs,
      rise: numberOrUndefined(f.get("hcRise")) ?? hc0.rise,
      fall: numberOrUndefined(f.get("hcFall")) ?? hc0.fall,
    };
    const persistence = {
      ...ps0,
      type: psType,
      cookieName: psType === "cookie" ? String(f.get("cookieName") ?? "") : ps0.cookieName,
    };
    const policyOptions = policy === "consistent_hash" ? hashOptionsFromForm(f) : {};
    const base = {
      name: String(f.get("name") ?? ""),
      policy,
      policyOptions,
      healthCheck,
      persistence,
      ...failoverFromForm(f, fo0),
      tls: backendTlsFromForm(f),
      upstream: upstreamFromForm(f),
    };
    // Validated here with the server's schema, then dry-run: the dialog shows the
    // effect and diff, applies on confirm and follows the rollout.
    if (pool) {
      const input = { id: pool.id, ...base };
      const invalid = validate(poolUpdate, input);
      setClientErrors(invalid);
      if (invalid) return;
      change.open({
        title: `Save pool ${pool.name}?`,
        request: { kind: "pool.update", input },
        confirmLabel: "Save pool",
        done: `Saved pool ${base.name}`,
        apply: () => update.mutateAsync(input),
        onApplied: onDone,
      });
    } else {
      const input = { clusterId, ...base };
      const invalid = validate(poolInput, input);
      setClientErrors(invalid);
      if (invalid) return;
      change.open({
        title: `Create pool ${base.name}?`,
        request: { kind: "pool.create", input },
        confirmLabel: "Create pool",
        done: `Created pool ${base.name}`,
        apply: () => create.mutateAsync(input),
        onApplied: onDone,
      });
    }
  }

  return (
    <form onSubmit={onSubmit} noValidate className="space-y-4">
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField
          label="Name"
          name="name"
          defaultValue={pool?.name ?? ""}
          placeholder="web-frontend"
          autoFocus
          autoComplete="off"
          error={errors.name}
        />
        <SelectField
          label="Policy"
          name="policy"
          value={policy}
          onChange={(e) => setPolicy(e.target.value as Policy)}
          error={errors.policy}
          hint={POLICY_FACTS[policy].description}
        >
          {POLICIES.map((p) => (
            <option key={p} value={p}>
              {POLICY_FACTS[p].label}
            </option>
          ))}
        </SelectField>
      </div>
      {policy === "consistent_hash" ? (
        <Fieldset legend="Consistent hashing">
          <HashOptionsFields
            value={readHashOptions(pool?.policyOptions)}
            error={errors["policyOptions.keyName"]}
          />
        </Fieldset>
      ) : null}
      <Fieldset legend="Health check">
        <div className="grid gap-3 sm:grid-cols-3 lg:grid-cols-6">
          <SelectField
            label="Check type"
            name="hcType"
            value={hcType}
            onChange={(e) => setHcType(e.target.value as typeof hcType)}
            error={errors["healthCheck.type"]}
          >
            <option value="none">None</option>
            <option value="http">HTTP</option>
            <option value="tcp">TCP connect</option>
            <option value="grpc">gRPC (grpc.health.v1)</option>
          </SelectField>
          {hcType === "grpc" ? (
            <TextField
              label="gRPC service"
              name="hcGrpcService"
              defaultValue={hc0.grpcService ?? ""}
              placeholder="(whole server)"
              error={errors["healthCheck.grpcService"]}
              title="The service name sent in Health/Check, such as helloworld.Greeter; empty asks about the whole server"
              className="lg:col-span-1"
            />
          ) : (
            <TextField
              label="Check path"
              name="hcPath"
              defaultValue={hc0.path}
              disabled={hcType !== "http"}
              error={errors["healthCheck.path"]}
              className="lg:col-span-1"
            />
          )}
          <TextField
            label="Interval (ms)"
            name="hcInterval"
            type="number"
            min={100}
            defaultValue={hc0.intervalMs}
            disabled={hcType === "none"}
            error={errors["healthCheck.intervalMs"]}
          />
          <TextField
            label="Timeout (ms)"
            name="hcTimeout"
            type="number"
            min={50}
            defaultValue={hc0.timeoutMs}
            disabled={hcType === "none"}
            error={errors["healthCheck.timeoutMs"]}
          />
          <TextField
            label="Rise"
            name="hcRise"
            type="number"
            min={1}
            defaultValue={hc0.rise}
            disabled={hcType === "none"}
            error={errors["healthCheck.rise"]}
            title="Passing checks in a row before a backend counts as up"
          />
          <TextField
            label="Fall"
            name="hcFall"
            type="number"
            min={1}
            defaultValue={hc0.fall}
            disabled={hcType === "none"}
            error={errors["healthCheck.fall"]}
            title="Failing checks in a row before a backend counts as down"
          />
        </div>
        <p className="mt-2 text-xs text-zinc-500 dark:text-zinc-400">
          Rise and fall: how many checks in a row must pass or fail before a backend changes state.
        </p>
      </Fieldset>
      <Fieldset legend="Persistence">
        <div className="grid gap-3 sm:grid-cols-2">
          <SelectField
            label="Stickiness"
            name="psType"
            value={psType}
            onChange={(e) => setPsType(e.target.value as typeof psType)}
            error={errors["persistence.type"]}
            hint="Keep a client on the backend it first reached."
          >
            <option value="none">None</option>
            <option value="cookie">Cookie</option>
            <option value="source_ip">Source IP</option>
          </SelectField>
          <TextField
            label="Cookie"
            name="cookieName"
            defaultValue={ps0.cookieName}
            disabled={psType !== "cookie"}
            error={errors["persistence.cookieName"]}
            hint="The cookie the load balancer sets."
          />
        </div>
      </Fieldset>
      <FailoverFields value={fo0} errors={errors} />
      <BackendTlsFields clusterId={clusterId} value={readBackendTls(pool?.tls)} errors={errors} />
      <UpstreamFields value={readUpstream(pool?.upstream)} errors={errors} />
      <details className="rounded-md border border-zinc-200 px-3 py-2 text-sm dark:border-zinc-800">
        <summary className="cursor-pointer font-medium">Which engines run these options</summary>
        <p className="my-2 text-xs text-zinc-500 dark:text-zinc-400">
          Agents started with <code>--engine haproxy</code> refuse (NACK) a snapshot that uses an option
          HAProxy cannot express; the agents page shows their reason.
        </p>
        <EngineSupportTable />
      </details>
      <FormError error={mutation.error} fields={errors} shown={SHOWN} />
      <FormActions>
        <Button onClick={onDone}>Cancel</Button>
        <Button type="submit" variant="primary" disabled={mutation.isPending}>
          {mutation.isPending ? "Saving…" : pool ? "Save pool" : "Create pool"}
        </Button>
      </FormActions>
      {change.dialog}
    </form>
  );
}
