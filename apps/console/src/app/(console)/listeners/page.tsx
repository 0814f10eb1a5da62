"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { ListenerIcon, PlusIcon } from "../../../components/icons";
import { ListenerCard } from "../../../components/listeners/listener-card";
import { ListenerForm } from "../../../components/listeners/listener-form";
import { Button, Card, EmptyState, ErrorNotice, PageHeader, Skeleton } from "../../../components/ui";
import { useCan, useCluster } from "../../../lib/console-context";
import { useTRPC } from "../../../lib/trpc";

export default function ListenersPage() {
  const trpc = useTRPC();
  const { clusterId, cluster } = useCluster();
  const allowed = useCan();
  const listeners = useQuery(trpc.listener.list.queryOptions({ clusterId }));
  const pools = useQuery(trpc.pool.list.queryOptions({ clusterId }));
  const [creating, setCreating] = useState(false);
  const mayWrite = allowed("listener.write");

  return (
    <>
      <PageHeader
        title="Listeners"
        description={
          <>
            Ports the load-balancer nodes of{" "}
            <span className="font-medium text-zinc-700 dark:text-zinc-200">{cluster.name}</span> accept
            connections on, and the routes that pick a pool for each request.
          </>
        }
        actions={
          mayWrite ? (
            <Button variant="primary" onClick={() => setCreating(true)} aria-expanded={creating}>
              <PlusIcon />
              New listener
            </Button>
          ) : null
        }
      />

      {creating ? (
        <Card className="mb-6 p-5">
          <h2 className="mb-4 text-sm font-semibold">New listener</h2>
          <ListenerForm clusterId={clusterId} onDone={() => setCreating(false)} />
        </Card>
      ) : null}

      {listeners.error ? <ErrorNotice error={listeners.error} className="mb-4" /> : null}

      {listeners.isPending ? (
        <div className="space-y-4" role="status" aria-busy="true" aria-label="Loading listeners">
          {[0, 1, 2].map((i) => (
            <Skeleton key={i} className="h-32" />
          ))}
        </div>
      ) : listeners.data && listeners.data.length === 0 && !creating ? (
        <EmptyState
          icon={<ListenerIcon />}
          title="No listeners yet"
          action={
            mayWrite ? (
              <Button variant="primary" onClick={() => setCreating(true)}>
                Create your first listener
              </Button>
            ) : null
          }
        >
          A listener opens a port on every node of the cluster. Add one, then add routes that send its traffic
          to your pools.
        </EmptyState>
      ) : (
        <div className="space-y-4">
          {listeners.data?.map((l) => (
            <ListenerCard key={l.id} listener={l} pools={pools.data} clusterId={clusterId} />
          ))}
        </div>
      )}
    </>
  );
}
