"use client";

import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { PoolsBoard } from "../../../components/board/pools-board";
import { PlusIcon, PoolIcon } from "../../../components/icons";
import { PoolCard } from "../../../components/pools/pool-card";
import { PoolForm } from "../../../components/pools/pool-form";
import { Button, Card, cx, EmptyState, ErrorNotice, PageHeader, Skeleton } from "../../../components/ui";
import { useCan, useCluster } from "../../../lib/console-context";
import { useTRPC } from "../../../lib/trpc";

const MAX_STREAMED_POOLS = 3;
const VIEW_KEY = "fulcrum.pools.view";
type View = "board" | "list";

/** Board (drag backends between pools) by default; the list has per-backend buttons and forms. */
function useView(): [View, (v: View) => void] {
  const [view, setView] = useState<View>("board");
  useEffect(() => {
    if (window.localStorage.getItem(VIEW_KEY) === "list") setView("list");
  }, []);
  return [
    view,
    (v) => {
      window.localStorage.setItem(VIEW_KEY, v);
      setView(v);
    },
  ];
}

function ViewToggle({ view, onChange }: { view: View; onChange: (v: View) => void }) {
  return (
    <fieldset
      aria-label="View"
      className="inline-flex rounded-md border border-zinc-300 p-0.5 dark:border-zinc-700"
    >
      {(["board", "list"] as const).map((v) => (
        <button
          key={v}
          type="button"
          aria-pressed={view === v}
          onClick={() => onChange(v)}
          className={cx(
            "rounded px-2.5 py-1 text-[13px] font-medium capitalize",
            view === v
              ? "bg-zinc-900 text-white dark:bg-zinc-100 dark:text-zinc-900"
              : "text-zinc-600 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100",
          )}
        >
          {v}
        </button>
      ))}
    </fieldset>
  );
}

export default function PoolsPage() {
  const trpc = useTRPC();
  const { clusterId, cluster } = useCluster();
  const allowed = useCan();
  const [view, setView] = useView();
  // The board reads every backend in a lean shape; the list (with its edit forms) the full rows.
  const board = useQuery({ ...trpc.pool.board.queryOptions({ clusterId }), enabled: view === "board" });
  const list = useQuery({ ...trpc.pool.list.queryOptions({ clusterId }), enabled: view === "list" });
  const pools = view === "board" ? board : list;
  const [creating, setCreating] = useState(false);
  const mayWrite = allowed("pool.write");

  return (
    <>
      <PageHeader
        title="Pools"
        description={
          <>
            Groups of backends that share a balancing policy, health check and persistence in{" "}
            <span className="font-medium text-zinc-700 dark:text-zinc-200">{cluster.name}</span>.
          </>
        }
        actions={
          <>
            <ViewToggle view={view} onChange={setView} />
            {mayWrite ? (
              <Button variant="primary" onClick={() => setCreating(true)} aria-expanded={creating}>
                <PlusIcon />
                New pool
              </Button>
            ) : null}
          </>
        }
      />

      {creating ? (
        <Card className="mb-6 p-5">
          <h2 className="mb-4 text-sm font-semibold">New pool</h2>
          <PoolForm clusterId={clusterId} onDone={() => setCreating(false)} />
        </Card>
      ) : null}

      {pools.error ? <ErrorNotice error={pools.error} /> : null}

      {pools.isPending ? (
        <div className="grid gap-4" role="status" aria-busy="true" aria-label="Loading pools">
          {[0, 1, 2, 3].map((i) => (
            <Skeleton key={i} className="h-48" />
          ))}
        </div>
      ) : pools.data && pools.data.length === 0 && !creating ? (
        <EmptyState
          icon={<PoolIcon />}
          title="No pools yet"
          action={
            mayWrite ? (
              <Button variant="primary" onClick={() => setCreating(true)}>
                Create your first pool
              </Button>
            ) : null
          }
        >
          A pool is a set of backends that share a balancing policy. Create one, add its backends, then point
          a listener&apos;s route at it.
        </EmptyState>
      ) : view === "board" ? (
        board.data ? (
          <PoolsBoard pools={board.data} />
        ) : null
      ) : (
        <div className="grid items-start gap-4">
          {list.data?.map((p) => (
            // One event stream per pool would use up the browser's six connections
            // to the console when there are many; past a few pools, cards poll instead.
            <PoolCard
              key={p.id}
              pool={p}
              clusterId={clusterId}
              stream={list.data.length <= MAX_STREAMED_POOLS}
            />
          ))}
        </div>
      )}
    </>
  );
}
