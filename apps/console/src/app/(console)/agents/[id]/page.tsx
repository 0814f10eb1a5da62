"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useParams } from "next/navigation";
import { useCallback, useState } from "react";
import { WorkersCard } from "../../../../components/agent-workers";
import { AgentIcon, WarningIcon } from "../../../../components/icons";
import { NoTrafficOverlay } from "../../../../components/metrics/no-traffic";
import { LiveIndicator, RangePicker } from "../../../../components/metrics/range-picker";
import { TrafficCharts } from "../../../../components/metrics/traffic-charts";
import { type Marker, type Range, rangeInfo } from "../../../../components/metrics/types";
import { useLiveSeries, useMarkers } from "../../../../components/metrics/use-metrics";
import { BACK_LINK, DetailNotFound, DetailSkeleton } from "../../../../components/page-states";
import { Badge, Card, cx, ErrorNotice, PageHeader, StatusDot } from "../../../../components/ui";
import type { Agent } from "../../../../lib/api-types";
import { useCluster } from "../../../../lib/console-context";
import { formatDateTime, isoString, relativeTime, useNow } from "../../../../lib/format";
import { useTRPC } from "../../../../lib/trpc";

function Fact({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs font-medium uppercase tracking-wide text-zinc-500 dark:text-zinc-400">
        {label}
      </dt>
      <dd className="mt-1 truncate text-sm">{children}</dd>
    </div>
  );
}

function AgentStatus({ agent, now }: { agent: Agent; now: number }) {
  const revoked = agent.revokedAt !== null;
  const since = agent.connected ? agent.connectedAt : (agent.disconnectedAt ?? agent.createdAt);
  const behind = agent.desiredVersion !== null && agent.appliedVersion !== agent.desiredVersion;
  return (
    <Card className="mb-6 p-4">
      <dl className="grid gap-4 sm:grid-cols-2 lg:grid-cols-5">
        <Fact label="Status">
          <span data-testid="agent-status" className="inline-flex items-center gap-2">
            <StatusDot
              color={agent.connected ? "green" : revoked ? "zinc" : "red"}
              pulse={agent.connected}
              label={agent.connected ? "connected" : "disconnected"}
            />
            {revoked ? <Badge tone="red">revoked</Badge> : null}
          </span>
          <span className="ml-1 text-xs text-zinc-500 dark:text-zinc-400" title={formatDateTime(since)}>
            since {relativeTime(since, now)}
          </span>
        </Fact>
        <Fact label="Last heartbeat">
          <time dateTime={isoString(agent.lastHeartbeatAt)} title={formatDateTime(agent.lastHeartbeatAt)}>
            {agent.lastHeartbeatAt ? relativeTime(agent.lastHeartbeatAt, now) : "never"}
          </time>
        </Fact>
        <Fact label="Software">
          <span className="font-mono text-xs">{agent.softwareVersion ?? "—"}</span>
        </Fact>
        <Fact label="Config applied / latest">
          <span
            className={cx(
              "inline-flex items-center gap-1 font-mono text-xs tabular-nums",
              behind ? "font-semibold text-amber-600 dark:text-amber-400" : "",
            )}
          >
            {behind ? <WarningIcon /> : null}v{agent.appliedVersion ?? "—"}
            <span className="font-normal text-zinc-400"> / v{agent.desiredVersion ?? "—"}</span>
          </span>
        </Fact>
        <Fact label="Last error">
          {agent.lastError ? (
            <span className="text-xs text-red-600 dark:text-red-400" title={agent.lastError}>
              {agent.lastError}
            </span>
          ) : (
            <span className="text-xs text-zinc-400">—</span>
          )}
        </Fact>
      </dl>
    </Card>
  );
}

function AgentTraffic({ agent, clusterId }: { agent: Agent; clusterId: string }) {
  const [range, setRange] = useState<Range>("5m");
  const data = useLiveSeries("agent", agent.id, range);
  // Config versions, and only this agent's ACK/NACKs.
  const mine = useCallback((m: Marker) => m.kind === "config" || m.agentName === agent.name, [agent.name]);
  const markers = useMarkers(range, mine);
  const empty = !data.loading && !data.hasTraffic && !data.error;
  return (
    <>
      <div className="mb-3 flex flex-wrap items-center justify-between gap-3">
        <h2 className="text-sm font-semibold">Traffic through this node</h2>
        <div className="flex items-center gap-3">
          <LiveIndicator state={data.liveState} />
          <RangePicker value={range} onChange={setRange} />
        </div>
      </div>
      {data.error ? <ErrorNotice error={data.error} className="mb-3" /> : null}
      <div className="relative">
        <TrafficCharts data={data} markers={markers} syncKey={`agent-${clusterId}-${agent.id}`} />
        {empty ? (
          <NoTrafficOverlay title={rangeInfo(range).live ? "No traffic yet" : "No traffic in this range"}>
            {agent.connected
              ? "This node is connected but served no requests in this window. Send requests to one of the cluster's listener ports on it."
              : "This node is not connected, so it reports no traffic. Check the agent's service on the node."}
          </NoTrafficOverlay>
        ) : null}
      </div>
    </>
  );
}

export default function AgentDetailPage() {
  const { id } = useParams<{ id: string }>();
  const trpc = useTRPC();
  const now = useNow(1000);
  const { clusterId, cluster } = useCluster();
  const agents = useQuery({ ...trpc.agent.list.queryOptions({ clusterId }), refetchInterval: 2000 });
  const agent = agents.data?.find((a) => a.id === id);

  if (agents.error && !agents.data) return <ErrorNotice error={agents.error} />;
  if (agents.isPending) return <DetailSkeleton label="Loading agent" withSummary />;
  if (!agent)
    return (
      <DetailNotFound
        icon={<AgentIcon />}
        title="Agent not found"
        href="/agents"
        backLabel={`Every node of ${cluster.name}`}
      >
        It may have been deleted, or it is enrolled in another cluster than {cluster.name}.
      </DetailNotFound>
    );

  return (
    <>
      <Link href="/agents" className={BACK_LINK}>
        ← Every node
      </Link>
      <div className="mt-2">
        <PageHeader
          title={agent.name}
          description={
            <>
              Fulcrum agent on a load-balancer node of{" "}
              <span className="font-medium text-zinc-700 dark:text-zinc-200">{cluster.name}</span>.
            </>
          }
        />
      </div>
      {agents.error ? <ErrorNotice error={agents.error} className="mb-4" /> : null}
      <AgentStatus agent={agent} now={now} />
      <WorkersCard agent={agent} now={now} />
      <AgentTraffic key={agent.id} agent={agent} clusterId={clusterId} />
    </>
  );
}
