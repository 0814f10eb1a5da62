"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { Backend } from "../../lib/api-types";
import { useInvalidateTopology } from "../../lib/invalidate";
import { useTRPC } from "../../lib/trpc";
import { mergeErrors, numberOrUndefined } from "../../lib/validate";
import { backendInput, backendUpdate, WEIGHT_MAX, WEIGHT_MIN } from "../../server/domain/schemas";
import { formChange, useDryRunSubmit } from "../changes/use-dry-run-submit";
import { CheckboxField, FormActions, FormError, TextField } from "../form";
import { Button } from "../ui";
import { weightNote } from "./policies";

const SHOWN = ["name", "address", "port", "weight", "backup", "maxConnections", "publicBaseUrl"] as const;

/** Add a backend to a pool (no `backend`) or edit one. The submit button reads "Save backend". */
export function BackendForm({
  poolId,
  backend,
  onDone,
}: {
  poolId: string;
  backend?: Backend;
  onDone: () => void;
}) {
  const trpc = useTRPC();
  const invalidate = useInvalidateTopology();
  // Every save is dry-run first: effect and diff, then apply on confirm.
  const dryRun = useDryRunSubmit();
  const create = useMutation(trpc.backend.create.mutationOptions());
  const update = useMutation(trpc.backend.update.mutationOptions());
  const mutation = backend ? update : create;
  // Some policies never read weights: say so where the weight is set.
  const pool = useQuery(trpc.pool.summary.queryOptions({ id: poolId }));
  const ignoredWeight = pool.data ? weightNote(pool.data.policy) : null;
  const [clientErrors, setClientErrors] = useState<Record<string, string> | null>(null);
  const errors = mergeErrors(clientErrors, mutation.error);

  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const base = {
      name: String(f.get("name") ?? ""),
      address: String(f.get("address") ?? ""),
      // Empty is NaN, a number the schema refuses ("Enter a port number."); ports are never strings.
      port: numberOrUndefined(f.get("port")) ?? Number.NaN,
      weight: numberOrUndefined(f.get("weight")),
      backup: f.get("backup") === "on",
      maxConnections: numberOrUndefined(f.get("maxConnections")) ?? null,
      publicBaseUrl: String(f.get("publicBaseUrl") ?? "").trim() || null,
    };
    const saved = await dryRun.submit(
      backend
        ? formChange("backend.update", backendUpdate, { id: backend.id, ...base }, update.mutateAsync)
        : formChange("backend.create", backendInput, { poolId, ...base }, create.mutateAsync),
      setClientErrors,
    );
    if (!saved) return;
    await invalidate();
    onDone();
  }

  return (
    <form
      onSubmit={onSubmit}
      noValidate
      className="space-y-3 rounded-md border border-zinc-200 bg-zinc-50/70 p-3 dark:border-zinc-800 dark:bg-zinc-950/40"
    >
      <div className="grid gap-3 sm:grid-cols-4">
        <TextField
          label="Address"
          name="address"
          defaultValue={backend?.address ?? ""}
          placeholder="10.0.0.12 or app-1.internal"
          autoFocus
          autoComplete="off"
          error={errors.address}
          className="sm:col-span-2"
        />
        <TextField
          label="Port"
          name="port"
          type="number"
          min={1}
          max={65535}
          defaultValue={backend?.port ?? ""}
          placeholder="8080"
          error={errors.port}
        />
        <TextField
          label="Weight"
          name="weight"
          type="number"
          min={WEIGHT_MIN}
          max={WEIGHT_MAX}
          defaultValue={backend?.weight ?? 100}
          error={errors.weight}
          hint={
            ignoredWeight
              ? "ignored by this pool's policy"
              : `${WEIGHT_MIN}–${WEIGHT_MAX}; 0 takes no new traffic`
          }
        />
        {ignoredWeight ? (
          <p
            data-testid="weight-ignored"
            className="text-xs text-amber-700 sm:col-span-4 dark:text-amber-400"
          >
            {ignoredWeight}
          </p>
        ) : null}
        <TextField
          label="Backend name"
          name="name"
          defaultValue={backend?.name ?? ""}
          placeholder="optional, e.g. app-1"
          autoComplete="off"
          error={errors.name}
          className="sm:col-span-2"
        />
        <TextField
          label="Connection limit"
          name="maxConnections"
          type="number"
          min={1}
          defaultValue={backend?.maxConnections ?? ""}
          placeholder="pool default"
          error={errors.maxConnections}
          hint="Empty: the pool's per-backend limit applies."
        />
        <CheckboxField
          label="Backup"
          name="backup"
          defaultChecked={backend?.backup ?? false}
          hint="Only takes traffic when every primary backend is down."
          className="sm:pt-6"
        />
        <TextField
          label="Public base URL"
          name="publicBaseUrl"
          type="url"
          defaultValue={backend?.publicBaseUrl ?? ""}
          placeholder="optional, e.g. https://mirror1.example.com/pub"
          autoComplete="off"
          error={errors.publicBaseUrl}
          inputClassName="font-mono"
          hint="Where redirect routes send clients: this URL plus the request's path and query. Required when a redirect route uses this pool."
          className="sm:col-span-4"
        />
      </div>
      <div className="flex items-center justify-end">
        <FormActions>
          <Button size="sm" onClick={onDone}>
            Cancel
          </Button>
          <Button size="sm" type="submit" variant="primary" disabled={mutation.isPending}>
            {mutation.isPending ? "Saving…" : "Save backend"}
          </Button>
        </FormActions>
      </div>
      <FormError error={mutation.error} fields={errors} shown={SHOWN} />
      {dryRun.dialog}
    </form>
  );
}
