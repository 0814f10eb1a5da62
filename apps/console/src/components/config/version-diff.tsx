"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../../lib/trpc";
import type { SnapshotChange } from "../../server/snapshot/diff";
import { Badge, cx, ErrorNotice, SkeletonRows } from "../ui";

const TONE = { added: "green", removed: "red", changed: "amber" } as const;

function show(v: unknown): string {
  if (v === undefined) return "—";
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** What one version changed against the one before it, a line per change. */
export function VersionDiff({ clusterId, version }: { clusterId: string; version: number }) {
  const trpc = useTRPC();
  const diff = useQuery(trpc.config.diff.queryOptions({ clusterId, version }, { staleTime: Infinity }));
  if (diff.error) return <ErrorNotice error={diff.error} />;
  if (!diff.data) return <SkeletonRows rows={3} />;
  return <DiffList changes={diff.data} label={`Changes in v${version}`} />;
}

/** A line per changed object or field of a snapshot diff (config history and dry runs). */
export function DiffList({ changes, label }: { changes: readonly SnapshotChange[]; label: string }) {
  if (changes.length === 0) {
    return (
      <p className="text-sm text-zinc-500 dark:text-zinc-400">No change to the compiled configuration.</p>
    );
  }
  return (
    <ul className="divide-y divide-zinc-100 text-sm dark:divide-zinc-800" aria-label={label}>
      {changes.map((c, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the list is immutable for a version
        <li key={i} className="flex flex-wrap items-baseline gap-x-2 gap-y-1 py-2">
          <Badge tone={TONE[c.change]}>{c.change}</Badge>
          <span className="font-medium">{c.object}</span>
          {c.change === "changed" ? (
            <span className="text-zinc-600 dark:text-zinc-300">
              <span className="font-mono text-xs">{c.field}</span>{" "}
              <span className={cx("font-mono text-xs text-red-700 line-through dark:text-red-300")}>
                {show(c.before)}
              </span>{" "}
              →{" "}
              <span className="font-mono text-xs text-emerald-700 dark:text-emerald-300">
                {show(c.after)}
              </span>
            </span>
          ) : null}
        </li>
      ))}
    </ul>
  );
}
