"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { Fragment, Suspense, useDeferredValue, useEffect, useMemo, useState } from "react";
import { SelectField, TextField } from "../../../components/form";
import { AuditIcon, ChevronIcon } from "../../../components/icons";
import {
  Badge,
  Card,
  EmptyState,
  ErrorNotice,
  JsonView,
  PageHeader,
  SkeletonRows,
  Td,
  Th,
} from "../../../components/ui";
import type { AuditEntry } from "../../../lib/api-types";
import { formatDateTime, relativeTime, useNow } from "../../../lib/format";
import { useTRPC } from "../../../lib/trpc";

const TARGET_TYPES = [
  "cluster",
  "listener",
  "route",
  "pool",
  "backend",
  "agent",
  "enrollment_token",
  "user",
  "api_token",
] as const;

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

function actionTone(action: string): "red" | "green" | "amber" | "zinc" {
  if (/\.(delete|revoke|disabled)$/.test(action)) return "red";
  if (/\.(create|setup|enroll|enabled)$/.test(action)) return "green";
  if (/\.(draining|update)$/.test(action)) return "amber";
  return "zinc";
}

function EntryRow({ entry, now }: { entry: AuditEntry; now: number }) {
  const [open, setOpen] = useState(false);
  const hasDetail = entry.before !== null || entry.after !== null;
  return (
    <Fragment>
      <tr className="hover:bg-zinc-50/70 dark:hover:bg-zinc-800/30">
        <Td className="w-8 pr-0">
          {hasDetail ? (
            <button
              type="button"
              aria-expanded={open}
              onClick={() => setOpen((v) => !v)}
              className="rounded p-0.5 text-zinc-400 hover:bg-zinc-100 hover:text-zinc-700 dark:hover:bg-zinc-800 dark:hover:text-zinc-200"
            >
              <ChevronIcon open={open} />
              <span className="sr-only">{open ? "Hide" : "Show"} details</span>
            </button>
          ) : null}
        </Td>
        <Td className="whitespace-nowrap text-[13px]">
          <span title={formatDateTime(entry.createdAt)}>{relativeTime(entry.createdAt, now)}</span>
        </Td>
        <Td className="max-w-56 truncate text-[13px]">{entry.actorName}</Td>
        <Td>
          <Badge tone={actionTone(entry.action)} className="font-mono">
            {entry.action}
          </Badge>
        </Td>
        <Td className="text-[13px]">
          <span className="text-zinc-500 dark:text-zinc-400">{entry.targetType}</span>
          {entry.targetId ? (
            <span className="ml-1.5 font-mono text-xs text-zinc-400" title={entry.targetId}>
              {entry.targetId.slice(0, 8)}
            </span>
          ) : null}
        </Td>
      </tr>
      {open ? (
        <tr>
          <td
            colSpan={5}
            className="border-b border-zinc-100 bg-zinc-50/60 px-3 py-3 dark:border-zinc-800 dark:bg-zinc-950/40"
          >
            <div className="grid gap-3 lg:grid-cols-2">
              <div>
                <div className="mb-1 text-xs font-medium uppercase tracking-wide text-zinc-500">Before</div>
                <JsonView value={entry.before} className="max-h-80" />
              </div>
              <div>
                <div className="mb-1 text-xs font-medium uppercase tracking-wide text-zinc-500">After</div>
                <JsonView value={entry.after} className="max-h-80" />
              </div>
            </div>
            <p className="mt-2 text-xs text-zinc-500">{formatDateTime(entry.createdAt)}</p>
          </td>
        </tr>
      ) : null}
    </Fragment>
  );
}

const WHEN = [
  ["", "Any time"],
  ["3600000", "Last hour"],
  ["86400000", "Last 24 hours"],
  ["604800000", "Last 7 days"],
  ["2592000000", "Last 30 days"],
] as const;

/** `?targetType=pool&targetId=…` (the History links on pools, backends and listeners) opens filtered. */
export default function AuditPage() {
  return (
    <Suspense>
      <AuditLog />
    </Suspense>
  );
}

function AuditLog() {
  const trpc = useTRPC();
  const now = useNow(15_000);
  const params = useSearchParams();
  const [actor, setActor] = useState(params.get("actor") ?? "");
  const [action, setAction] = useState(params.get("action") ?? "");
  const [targetType, setTargetType] = useState(params.get("targetType") ?? "");
  const [targetId, setTargetId] = useState(params.get("targetId") ?? "");
  const [when, setWhen] = useState("");
  // Anchored to the minute so the query key stays put while the page is open.
  const since = useMemo(
    () => (when ? new Date(Math.floor(Date.now() / 60_000) * 60_000 - Number(when)) : null),
    [when],
  );
  const filters = {
    actor: useDeferredValue(useDebounced(actor.trim(), 300)),
    action: useDeferredValue(useDebounced(action.trim(), 300)),
    targetType,
  };
  const entries = useQuery(
    trpc.audit.list.queryOptions(
      {
        ...(filters.actor ? { actor: filters.actor } : {}),
        ...(filters.action ? { action: filters.action } : {}),
        ...(filters.targetType ? { targetType: filters.targetType } : {}),
        ...(targetId ? { targetId } : {}),
        ...(since ? { since } : {}),
        limit: 200,
      },
      { placeholderData: keepPreviousData },
    ),
  );
  const filtered = Boolean(filters.actor || filters.action || filters.targetType || targetId || since);

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Who changed what, across every cluster. The newest 200 entries that match."
      />
      <Card className="mb-4 p-3">
        <div className="grid gap-3 sm:grid-cols-4">
          <TextField
            label="Actor"
            type="search"
            value={actor}
            onChange={(e) => setActor(e.target.value)}
            placeholder="email or token name"
          />
          <TextField
            label="Action prefix"
            type="search"
            value={action}
            onChange={(e) => setAction(e.target.value)}
            placeholder="e.g. backend. or pool.delete"
            inputClassName="font-mono"
          />
          <SelectField label="Target type" value={targetType} onChange={(e) => setTargetType(e.target.value)}>
            <option value="">All targets</option>
            {TARGET_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </SelectField>
          <SelectField label="When" value={when} onChange={(e) => setWhen(e.target.value)}>
            {WHEN.map(([v, label]) => (
              <option key={v} value={v}>
                {label}
              </option>
            ))}
          </SelectField>
        </div>
        {targetId ? (
          <p className="mt-2 flex items-center gap-2 text-[13px] text-zinc-600 dark:text-zinc-300">
            Only changes to <span className="font-mono text-xs">{targetId.slice(0, 8)}</span>
            {params.get("label") ? <span className="font-medium">{params.get("label")}</span> : null}
            <button
              type="button"
              onClick={() => setTargetId("")}
              className="rounded px-1.5 text-xs font-medium text-indigo-600 hover:bg-indigo-50 dark:text-indigo-400 dark:hover:bg-indigo-950"
            >
              Show all
            </button>
            <Link href="/config" className="ml-auto text-xs font-medium text-indigo-600 dark:text-indigo-400">
              Config history and rollback →
            </Link>
          </p>
        ) : null}
      </Card>
      {entries.error ? <ErrorNotice error={entries.error} className="mb-4" /> : null}
      {entries.isPending ? (
        <SkeletonRows rows={8} />
      ) : entries.data && entries.data.length === 0 ? (
        <EmptyState
          icon={<AuditIcon />}
          title={filtered ? "Nothing matches these filters" : "No audit entries yet"}
        >
          {filtered
            ? "Loosen the filters above."
            : "Changes made in the console or through the API are recorded here."}
        </EmptyState>
      ) : (
        <Card className={entries.isPlaceholderData ? "opacity-60 transition-opacity" : "transition-opacity"}>
          <div className="overflow-x-auto">
            <table className="w-full border-collapse text-left text-sm">
              <thead>
                <tr>
                  <Th className="w-8" />
                  <Th>Time</Th>
                  <Th>Actor</Th>
                  <Th>Action</Th>
                  <Th>Target</Th>
                </tr>
              </thead>
              <tbody>
                {entries.data?.map((e) => (
                  <EntryRow key={e.id} entry={e} now={now} />
                ))}
              </tbody>
            </table>
          </div>
        </Card>
      )}
    </>
  );
}
