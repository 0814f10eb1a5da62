"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useSearchParams } from "next/navigation";
import { Suspense, useState } from "react";
import { agentsSentence, useChangeDialog } from "../../../components/changes/change-dialog";
import { VersionDiff } from "../../../components/config/version-diff";
import { HistoryIcon } from "../../../components/icons";
import {
  Badge,
  Button,
  Card,
  cx,
  EmptyState,
  ErrorNotice,
  JsonView,
  PageHeader,
  Skeleton,
  SkeletonRows,
} from "../../../components/ui";
import { useCan, useCluster } from "../../../lib/console-context";
import { formatDateTime, relativeTime, shortHash, useNow } from "../../../lib/format";
import { useTRPC } from "../../../lib/trpc";

/** `?version=N` (graph markers link here) opens that version. */
export default function ConfigPage() {
  return (
    <Suspense>
      <ConfigHistory />
    </Suspense>
  );
}

function ConfigHistory() {
  const trpc = useTRPC();
  const { clusterId, cluster } = useCluster();
  const now = useNow(15_000);
  const versions = useQuery(trpc.config.versions.queryOptions({ clusterId }));
  const linked = Number(useSearchParams().get("version"));
  const [picked, setPicked] = useState<number | null>(Number.isInteger(linked) && linked > 0 ? linked : null);
  const [view, setView] = useState<"changes" | "snapshot">("changes");
  const can = useCan();
  const rollback = useMutation(trpc.config.rollback.mutationOptions());
  const change = useChangeDialog();
  const latest = versions.data?.[0]?.version ?? null;
  const selected = picked ?? latest;
  const detail = useQuery(
    trpc.config.get.queryOptions(
      { clusterId, version: selected ?? 1 },
      { enabled: selected !== null, staleTime: Infinity },
    ),
  );

  return (
    <>
      <PageHeader
        title="Config history"
        description={
          <>
            Every change to{" "}
            <span className="font-medium text-zinc-700 dark:text-zinc-200">{cluster.name}</span> compiles a
            new immutable configuration version; agents apply the latest one.
          </>
        }
      />
      {versions.error ? <ErrorNotice error={versions.error} className="mb-4" /> : null}
      {versions.isPending ? (
        <div className="grid gap-4 lg:grid-cols-[20rem_minmax(0,1fr)]">
          <SkeletonRows rows={6} />
          <Skeleton className="h-96" />
        </div>
      ) : !versions.data || versions.data.length === 0 ? (
        <EmptyState icon={<HistoryIcon />} title="No configuration versions yet">
          The first version is compiled when you create a listener, pool or backend in this cluster.
        </EmptyState>
      ) : (
        <div className="grid items-start gap-4 lg:grid-cols-[20rem_minmax(0,1fr)]">
          <Card className="overflow-hidden">
            <ul className="max-h-[70vh] divide-y divide-zinc-100 overflow-y-auto dark:divide-zinc-800">
              {versions.data.map((v) => {
                const active = v.version === selected;
                return (
                  <li key={v.id}>
                    <button
                      type="button"
                      aria-current={active ? "true" : undefined}
                      onClick={() => setPicked(v.version)}
                      className={cx(
                        "block w-full px-3 py-2.5 text-left transition-colors",
                        active
                          ? "bg-indigo-50 dark:bg-indigo-500/10"
                          : "hover:bg-zinc-50 dark:hover:bg-zinc-800/50",
                      )}
                    >
                      <div className="flex items-center justify-between gap-2">
                        <span className="font-mono text-sm font-semibold">v{v.version}</span>
                        {v.version === latest ? <Badge tone="green">latest</Badge> : null}
                        <span className="ml-auto font-mono text-[11px] text-zinc-400">
                          {shortHash(v.hash)}
                        </span>
                      </div>
                      <div className="mt-0.5 flex items-center justify-between gap-2 text-xs text-zinc-500 dark:text-zinc-400">
                        <span className="truncate">{v.authorName}</span>
                        <span className="shrink-0" title={formatDateTime(v.createdAt)}>
                          {relativeTime(v.createdAt, now)}
                        </span>
                      </div>
                    </button>
                  </li>
                );
              })}
            </ul>
          </Card>
          <Card className="min-w-0 p-4">
            {detail.data ? (
              <>
                <div className="mb-3 flex flex-wrap items-center gap-x-4 gap-y-1 text-sm">
                  <span className="font-mono font-semibold">v{detail.data.version}</span>
                  <span className="text-zinc-500 dark:text-zinc-400">by {detail.data.authorName}</span>
                  <span className="text-zinc-500 dark:text-zinc-400">
                    {formatDateTime(detail.data.createdAt)}
                  </span>
                  <span className="font-mono text-xs text-zinc-400" title="sha256 of the canonical snapshot">
                    {shortHash(detail.data.hash)}
                  </span>
                  <span className="ml-auto flex items-center gap-2">
                    <Button
                      size="xs"
                      variant={view === "changes" ? "primary" : "secondary"}
                      onClick={() => setView("changes")}
                    >
                      Changes
                    </Button>
                    <Button
                      size="xs"
                      variant={view === "snapshot" ? "primary" : "secondary"}
                      onClick={() => setView("snapshot")}
                    >
                      Snapshot
                    </Button>
                    {can("config.rollback") && detail.data.version !== latest ? (
                      <Button
                        size="xs"
                        onClick={() => {
                          const version = detail.data.version;
                          change.open({
                            title: `Roll back to v${version}?`,
                            request: { kind: "config.rollback", input: { clusterId, version } },
                            summary: (p) => (
                              <>
                                Listeners, routes, pools and backends are restored as they were in v{version}.
                                This is recorded as a new version. {agentsSentence(p)}
                              </>
                            ),
                            confirmLabel: `Roll back to v${version}`,
                            done: `Rolled back to v${version}`,
                            apply: () => rollback.mutateAsync({ clusterId, version }),
                            onApplied: () => setPicked(null),
                          });
                        }}
                      >
                        Roll back to v{detail.data.version}
                      </Button>
                    ) : null}
                  </span>
                </div>
                {view === "changes" ? (
                  <VersionDiff clusterId={clusterId} version={detail.data.version} />
                ) : (
                  <JsonView value={detail.data.snapshot} className="max-h-[65vh]" />
                )}
              </>
            ) : detail.error ? (
              <ErrorNotice error={detail.error} />
            ) : (
              <div className="space-y-3">
                <Skeleton className="h-5 w-72" />
                <Skeleton className="h-96" />
              </div>
            )}
          </Card>
        </div>
      )}
      {change.dialog}
    </>
  );
}
