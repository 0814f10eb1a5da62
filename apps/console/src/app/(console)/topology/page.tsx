"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { TopologyIcon } from "../../../components/icons";
import { TopologyDiagram } from "../../../components/topology/topology-diagram";
import { useBackendHealth } from "../../../components/topology/use-cluster-health";
import { Button, Card, EmptyState, ErrorNotice, PageHeader, Skeleton } from "../../../components/ui";
import { useCluster } from "../../../lib/console-context";
import { useTRPC } from "../../../lib/trpc";

export default function TopologyPage() {
  const trpc = useTRPC();
  const { clusterId, cluster } = useCluster();
  const listeners = useQuery(trpc.listener.list.queryOptions({ clusterId }));
  const pools = useQuery(trpc.pool.list.queryOptions({ clusterId }));
  const { health } = useBackendHealth(pools.data?.map((p) => p.id) ?? []);
  const error = listeners.error ?? pools.error;

  return (
    <>
      <PageHeader
        title="Topology"
        description={
          <>
            How traffic flows through{" "}
            <span className="font-medium text-zinc-700 dark:text-zinc-200">{cluster.name}</span>: listeners
            match routes, routes send to pools, pools balance over backends. Colours are live health; click
            any box to open it.
          </>
        }
      />
      {error ? <ErrorNotice error={error} className="mb-4" /> : null}
      {listeners.isPending || pools.isPending ? (
        <div role="status" aria-busy="true" aria-label="Loading topology" className="grid grid-cols-4 gap-12">
          {[0, 1, 2, 3].map((i) => (
            <div key={i} className="space-y-2">
              <Skeleton className="h-4 w-24" />
              <Skeleton className="h-12" />
              <Skeleton className="h-12" />
            </div>
          ))}
        </div>
      ) : listeners.data?.length === 0 && pools.data?.length === 0 ? (
        <EmptyState
          icon={<TopologyIcon />}
          title="Nothing to draw yet"
          action={
            <Link href="/pools">
              <Button variant="primary">Create a pool</Button>
            </Link>
          }
        >
          Create a pool with its backends, then a listener with a route to it; the diagram shows how requests
          flow.
        </EmptyState>
      ) : (
        <Card className="overflow-x-auto p-5">
          <div className="min-w-[56rem]">
            <TopologyDiagram listeners={listeners.data ?? []} pools={pools.data ?? []} health={health} />
          </div>
          <p className="mt-5 flex flex-wrap gap-4 text-xs text-zinc-500 dark:text-zinc-400">
            <Legend className="bg-emerald-500" label="healthy" />
            <Legend className="bg-amber-500" label="degraded or draining" />
            <Legend className="bg-red-500" label="down" />
            <Legend className="bg-zinc-400" label="no data or disabled" />
          </p>
        </Card>
      )}
    </>
  );
}

function Legend({ className, label }: { className: string; label: string }) {
  return (
    <span className="inline-flex items-center gap-1.5">
      <span aria-hidden className={`h-2 w-2 rounded-full ${className}`} />
      {label}
    </span>
  );
}
