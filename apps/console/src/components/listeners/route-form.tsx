"use client";

import { useMutation } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import type { Pool, Route } from "../../lib/api-types";
import { useInvalidateTopology } from "../../lib/invalidate";
import { useTRPC } from "../../lib/trpc";
import { mergeErrors, numberOrUndefined } from "../../lib/validate";
import { routeInput, routeUpdate } from "../../server/domain/schemas";
import { formChange, useDryRunSubmit } from "../changes/use-dry-run-submit";
import { FormActions, FormError, SelectField, TextField } from "../form";
import { Button, Skeleton } from "../ui";

const SHOWN = [
  "poolId",
  "host",
  "pathPrefix",
  "priority",
  "action",
  "redirect.status",
  "redirect.loopGuard",
  "publicBaseUrl",
] as const;

type Action = "proxy" | "redirect";
type RedirectValue = { status?: number; loopGuard?: string };

export function RouteForm({
  listenerId,
  protocol = "http",
  route,
  pools,
  onDone,
}: {
  listenerId: string;
  /** The listener's protocol: a DNS route names what to answer for; only HTTP routes can redirect. */
  protocol?: "http" | "tcp" | "dns";
  route?: Route;
  /** undefined while the cluster's pools are still loading */
  pools: Pool[] | undefined;
  onDone: () => void;
}) {
  const trpc = useTRPC();
  const invalidate = useInvalidateTopology();
  // Every save is dry-run first: effect and diff, then apply on confirm.
  const dryRun = useDryRunSubmit();
  const create = useMutation(trpc.route.create.mutationOptions());
  const update = useMutation(trpc.route.update.mutationOptions());
  const mutation = route ? update : create;
  const [clientErrors, setClientErrors] = useState<Record<string, string> | null>(null);
  const errors = mergeErrors(clientErrors, mutation.error);
  const [action, setAction] = useState<Action>(route?.action ?? "proxy");
  const redirect0 = (route?.redirect ?? {}) as RedirectValue;
  const dns = protocol === "dns";

  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const base = {
      poolId: String(f.get("poolId") ?? ""),
      host: String(f.get("host") ?? ""),
      // A DNS route has no path: "/" keeps the route table's rule that every route has one.
      pathPrefix: dns ? "/" : String(f.get("pathPrefix") ?? ""),
      priority: numberOrUndefined(f.get("priority")) ?? 0,
      action: dns ? ("proxy" as const) : action,
      ...(action === "redirect" && !dns
        ? {
            redirect: {
              status: numberOrUndefined(f.get("redirectStatus")) ?? 302,
              loopGuard: String(f.get("loopGuard") ?? ""),
            },
          }
        : {}),
    };
    const saved = await dryRun.submit(
      route
        ? formChange("route.update", routeUpdate, { id: route.id, ...base }, update.mutateAsync)
        : formChange("route.create", routeInput, { listenerId, ...base }, create.mutateAsync),
      setClientErrors,
    );
    if (!saved) return;
    await invalidate();
    onDone();
  }

  if (pools === undefined) return <Skeleton className="h-24 w-full" />;

  if (pools.length === 0) {
    return (
      <div className="flex items-center justify-between gap-3 rounded-md border border-dashed border-zinc-300 px-3 py-3 text-sm text-zinc-600 dark:border-zinc-700 dark:text-zinc-300">
        <span>A route sends traffic to a pool, and this cluster has none yet.</span>
        <div className="flex gap-2">
          <Button size="sm" onClick={onDone}>
            Cancel
          </Button>
          <Link
            href="/pools"
            className="inline-flex h-8 items-center rounded-md bg-indigo-600 px-2.5 text-[13px] font-medium text-white hover:bg-indigo-500"
          >
            Create a pool first
          </Link>
        </div>
      </div>
    );
  }

  return (
    <form
      onSubmit={onSubmit}
      noValidate
      className="space-y-3 rounded-md border border-zinc-200 bg-zinc-50/70 p-3 dark:border-zinc-800 dark:bg-zinc-950/40"
    >
      <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-[minmax(0,1.2fr)_minmax(0,1fr)_minmax(0,5.5rem)_minmax(0,1fr)]">
        <TextField
          label={dns ? "Name" : "Host"}
          name="host"
          defaultValue={route?.host ?? ""}
          placeholder={dns ? "www.example.com or *.example.com" : "any host"}
          autoFocus
          autoComplete="off"
          error={errors.host}
          hint={
            dns
              ? "The name this listener answers A/AAAA queries for; *.example.com answers every name below example.com."
              : "Leave empty to match any host."
          }
        />
        {dns ? (
          <div />
        ) : (
          <TextField
            label="Path prefix"
            name="pathPrefix"
            defaultValue={route?.pathPrefix ?? "/"}
            autoComplete="off"
            error={errors.pathPrefix}
            inputClassName="font-mono"
          />
        )}
        <TextField
          label="Priority"
          name="priority"
          type="number"
          min={-1000}
          max={1000}
          defaultValue={route?.priority ?? 0}
          error={errors.priority}
          hint="Higher wins."
        />
        <SelectField
          label="Pool"
          name="poolId"
          defaultValue={route?.poolId ?? pools[0]?.id}
          error={errors.poolId ?? errors.publicBaseUrl}
          hint={dns ? "Answers hold this pool's healthy backends' IP addresses." : undefined}
        >
          {pools.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </SelectField>
      </div>
      {protocol === "http" ? (
        <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-[minmax(0,1.2fr)_minmax(0,1fr)_minmax(0,1fr)]">
          <SelectField
            label="Action"
            name="action"
            value={action}
            onChange={(e) => setAction(e.currentTarget.value as Action)}
            error={errors.action}
            hint={
              action === "redirect"
                ? "Answers with a redirect to the chosen backend's public base URL (set on each backend); good for large downloads and mirrors."
                : "Forwards the request to a backend of the pool."
            }
          >
            <option value="proxy">Proxy</option>
            <option value="redirect">Redirect</option>
          </SelectField>
          {action === "redirect" ? (
            <>
              <SelectField
                label="Redirect status"
                name="redirectStatus"
                defaultValue={String(redirect0.status ?? 302)}
                error={errors["redirect.status"]}
                hint="307 makes clients repeat the method and body; 302 lets them switch to GET."
              >
                <option value="302">302 Found</option>
                <option value="307">307 Temporary Redirect</option>
              </SelectField>
              <TextField
                label="Loop guard parameter"
                name="loopGuard"
                defaultValue={redirect0.loopGuard ?? "fulcrum_redirected"}
                autoComplete="off"
                error={errors["redirect.loopGuard"]}
                inputClassName="font-mono"
                hint="Added to the redirect's query; a request that comes back with it gets 508 instead of another redirect."
              />
            </>
          ) : null}
        </div>
      ) : null}
      <FormError error={mutation.error} fields={errors} shown={SHOWN} />
      <FormActions>
        <Button size="sm" onClick={onDone}>
          Cancel
        </Button>
        <Button size="sm" type="submit" variant="primary" disabled={mutation.isPending}>
          {mutation.isPending ? "Saving…" : route ? "Save route" : "Create route"}
        </Button>
      </FormActions>
      {dryRun.dialog}
    </form>
  );
}
