"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { AgentRow, EnrollDialog, EnrollmentTokens } from "../../../components/agents";
import { AgentIcon, PlusIcon } from "../../../components/icons";
import { Button, EmptyState, ErrorNotice, PageHeader, SkeletonRows, Table, Th } from "../../../components/ui";
import { useCan, useCluster } from "../../../lib/console-context";
import { useNow } from "../../../lib/format";
import { useTRPC } from "../../../lib/trpc";

export default function AgentsPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { clusterId, cluster } = useCluster();
  const allowed = useCan();
  const now = useNow(1000);
  const agents = useQuery({ ...trpc.agent.list.queryOptions({ clusterId }), refetchInterval: 2000 });
  const revoke = useMutation(trpc.agent.revoke.mutationOptions());
  const remove = useMutation(trpc.agent.delete.mutationOptions());
  const [enrolling, setEnrolling] = useState(false);
  const mayEnroll = allowed("agent.enroll");
  const mayManage = allowed("agent.manage");
  const list = agents.data ?? [];
  const live = list.filter((a) => !a.revokedAt);
  const connected = live.filter((a) => a.connected).length;

  return (
    <>
      <PageHeader
        title="Agents"
        description={
          <>
            The Fulcrum agents on the load-balancer nodes of{" "}
            <span className="font-medium text-zinc-700 dark:text-zinc-200">{cluster.name}</span>. They receive
            each new configuration version and report what they run.
          </>
        }
        actions={
          mayEnroll ? (
            <Button variant="primary" onClick={() => setEnrolling(true)}>
              <PlusIcon />
              Enroll an agent
            </Button>
          ) : null
        }
      />

      {agents.error ? <ErrorNotice error={agents.error} className="mb-4" /> : null}

      {agents.isPending ? (
        <SkeletonRows rows={4} />
      ) : list.length === 0 ? (
        <EmptyState icon={<AgentIcon />} title="No agents enrolled">
          {mayEnroll
            ? "Use “Enroll an agent” to get a one-time command, then run it on each load-balancer node."
            : "An admin enrolls agents; once a node runs one, it shows up here with its status."}
        </EmptyState>
      ) : (
        <>
          <p className="mb-2 text-xs text-zinc-500 dark:text-zinc-400">
            {connected} of {live.length} connected · refreshes every 2 s
          </p>
          <div className="rounded-lg border border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900">
            <Table>
              <thead>
                <tr>
                  <Th>Agent</Th>
                  <Th>Status</Th>
                  <Th>Last heartbeat</Th>
                  <Th>Version</Th>
                  <Th>Workers</Th>
                  <Th>Config applied / latest</Th>
                  <Th>Last error</Th>
                  {mayManage ? <Th /> : null}
                </tr>
              </thead>
              <tbody>
                {list.map((a) => (
                  <AgentRow
                    key={a.id}
                    agent={a}
                    now={now}
                    mayManage={mayManage}
                    onRevoke={async () => {
                      await revoke.mutateAsync({ id: a.id });
                      await queryClient.invalidateQueries({ queryKey: trpc.agent.list.queryKey() });
                    }}
                    onDelete={async () => {
                      await remove.mutateAsync({ id: a.id });
                      await queryClient.invalidateQueries({ queryKey: trpc.agent.list.queryKey() });
                    }}
                  />
                ))}
              </tbody>
            </Table>
          </div>
        </>
      )}

      {mayEnroll ? <EnrollmentTokens clusterId={clusterId} now={now} /> : null}
      {mayEnroll ? (
        <EnrollDialog clusterId={clusterId} open={enrolling} onClose={() => setEnrolling(false)} />
      ) : null}
    </>
  );
}
