"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { type ReactNode, useState } from "react";
import { NoTrafficOverlay } from "../../components/metrics/no-traffic";
import { LiveIndicator, RangePicker } from "../../components/metrics/range-picker";
import { TrafficCharts } from "../../components/metrics/traffic-charts";
import type { Range } from "../../components/metrics/types";
import { useLiveSeries, useMarkers } from "../../components/metrics/use-metrics";
import { SectionTitle } from "../../components/page-title";
import { Card, cx, ErrorNotice, Skeleton, StatusDot } from "../../components/ui";
import { useCan, useCluster } from "../../lib/console-context";
import { formatDateTime, relativeTime, shortHash, useNow } from "../../lib/format";
import { useTRPC } from "../../lib/trpc";

/**
 * Link names here avoid the words "Pools", "Listeners" and "Agents" so the
 * sidebar's links stay the only ones with those names.
 */
function Stat({
  label,
  value,
  detail,
  href,
  linkText,
  loading,
  wrapDetail = false,
}: {
  label: string;
  value: ReactNode;
  detail?: ReactNode;
  href: string;
  linkText: string;
  loading: boolean;
  /** Let the detail take more lines instead of cutting it off (what it says must be read whole). */
  wrapDetail?: boolean;
}) {
  return (
    <Card className="flex flex-col p-4">
      <div className="text-xs font-medium uppercase tracking-wide text-zinc-500 dark:text-zinc-400">
        {label}
      </div>
      <div className="mt-2 h-8 text-2xl font-semibold tabular-nums">
        {loading ? <Skeleton className="h-7 w-16" /> : value}
      </div>
      <div
        className={cx(
          "mt-1 text-xs text-zinc-500 dark:text-zinc-400",
          wrapDetail ? "min-h-4 [overflow-wrap:anywhere]" : "h-4 truncate",
        )}
      >
        {loading ? null : detail}
      </div>
      <Link
        href={href}
        // mt-auto: links line up along the row when one card's detail takes more lines.
        className="mt-auto pt-3 text-xs font-medium text-indigo-600 hover:text-indigo-500 dark:text-indigo-400 dark:hover:text-indigo-300"
      >
        {linkText} →
      </Link>
    </Card>
  );
}

function Step({
  done,
  title,
  children,
  href,
  cta,
}: {
  done: boolean;
  title: string;
  children: ReactNode;
  href: string;
  cta: string;
}) {
  return (
    <li className="flex items-start gap-3 py-3">
      <span
        aria-hidden
        className={cx(
          "mt-0.5 flex h-5 w-5 shrink-0 items-center justify-center rounded-full text-[11px] font-semibold",
          done ? "bg-emerald-500 text-white" : "border border-zinc-300 text-zinc-400 dark:border-zinc-700",
        )}
      >
        {done ? "✓" : ""}
      </span>
      <div className="min-w-0 flex-1">
        <div className={cx("text-sm font-medium", done && "text-zinc-400 line-through dark:text-zinc-500")}>
          {title}
          <span className="sr-only">{done ? " (done)" : " (to do)"}</span>
        </div>
        <div className="text-xs text-zinc-500 dark:text-zinc-400">{children}</div>
      </div>
      {done ? null : (
        <Link
          href={href}
          className="shrink-0 text-xs font-medium text-indigo-600 hover:text-indigo-500 dark:text-indigo-400"
        >
          {cta}
        </Link>
      )}
    </li>
  );
}

function AgentsTile({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const overview = useQuery({ ...trpc.metrics.overview.queryOptions({ clusterId }), refetchInterval: 5000 });
  const up = overview.data?.agentsUp ?? 0;
  const down = overview.data?.agentsDown ?? 0;
  return (
    <Card className="flex flex-col p-3">
      <h3 className="text-xs font-medium uppercase tracking-wide text-zinc-500 dark:text-zinc-400">Agents</h3>
      {overview.isPending ? (
        <div className="mt-4 space-y-3">
          <Skeleton className="h-7 w-24" />
          <Skeleton className="h-7 w-24" />
        </div>
      ) : (
        <dl className="mt-4 grid grid-cols-2 gap-4">
          <div>
            <dt>
              <StatusDot color="green" label="Up" className="text-zinc-500 dark:text-zinc-400" />
            </dt>
            <dd data-testid="agents-up" className="mt-1 text-3xl font-semibold tabular-nums">
              {up}
            </dd>
          </div>
          <div>
            <dt>
              <StatusDot
                color={down > 0 ? "red" : "zinc"}
                label="Down"
                className="text-zinc-500 dark:text-zinc-400"
              />
            </dt>
            <dd
              data-testid="agents-down"
              className={cx(
                "mt-1 text-3xl font-semibold tabular-nums",
                down > 0 && "text-red-600 dark:text-red-400",
              )}
            >
              {down}
            </dd>
          </div>
        </dl>
      )}
      <p className="mt-auto text-xs text-zinc-500 dark:text-zinc-400">
        {overview.isPending
          ? null
          : up + down === 0
            ? "No agent has reported yet."
            : down > 0
              ? "Down agents serve their last configuration but report nothing."
              : "Every enrolled agent is reporting."}
      </p>
      <Link
        href="/agents"
        className="mt-2 text-xs font-medium text-indigo-600 hover:text-indigo-500 dark:text-indigo-400 dark:hover:text-indigo-300"
      >
        Node details →
      </Link>
    </Card>
  );
}

function TrafficSection({ clusterId }: { clusterId: string }) {
  const [range, setRange] = useState<Range>("5m");
  const data = useLiveSeries("cluster", undefined, range);
  const markers = useMarkers(range);
  const empty = !data.loading && !data.hasTraffic && !data.error;
  return (
    <section aria-labelledby="traffic-heading" className="mt-8">
      <div className="mb-3 flex flex-wrap items-center justify-between gap-3">
        <div>
          <h2 id="traffic-heading" className="text-sm font-semibold">
            Traffic
          </h2>
          <p className="text-xs text-zinc-500 dark:text-zinc-400">
            Every listener of the cluster, summed over its nodes. Dashed lines mark config versions.
          </p>
        </div>
        <div className="flex items-center gap-3">
          <LiveIndicator state={data.liveState} />
          <RangePicker value={range} onChange={setRange} />
        </div>
      </div>
      {data.error ? <ErrorNotice error={data.error} className="mb-3" /> : null}
      <div className="relative">
        <TrafficCharts data={data} markers={markers} syncKey={`overview-${clusterId}`}>
          <AgentsTile clusterId={clusterId} />
        </TrafficCharts>
        {empty ? (
          <NoTrafficOverlay
            title={range === "5m" || range === "15m" ? "No traffic yet" : "No traffic in this range"}
          />
        ) : null}
      </div>
    </section>
  );
}

export default function OverviewPage() {
  const trpc = useTRPC();
  const allowed = useCan();
  const now = useNow(10_000);
  const { clusterId, cluster } = useCluster();
  const pools = useQuery(trpc.pool.list.queryOptions({ clusterId }));
  const listeners = useQuery(trpc.listener.list.queryOptions({ clusterId }));
  const agents = useQuery({ ...trpc.agent.list.queryOptions({ clusterId }), refetchInterval: 5000 });
  const versions = useQuery(trpc.config.versions.queryOptions({ clusterId }));

  const backends = pools.data?.flatMap((p) => p.backends) ?? [];
  const liveAgents = agents.data?.filter((a) => !a.revokedAt) ?? [];
  const connected = liveAgents.filter((a) => a.connected);
  const latest = versions.data?.[0];
  const behind = connected.filter((a) => latest && a.appliedVersion !== latest.version).length;
  const routes = listeners.data?.reduce((n, l) => n + l.routes.length, 0) ?? 0;
  const loaded = pools.isSuccess && listeners.isSuccess && agents.isSuccess;
  const ready = loaded && backends.length > 0 && routes > 0 && connected.length > 0;

  return (
    <>
      <SectionTitle name={cluster.name} />
      <div className="mb-6">
        <h1 className="text-xl font-semibold tracking-tight">{cluster.name}</h1>
        <p className="mt-1 text-sm text-zinc-500 dark:text-zinc-400">Cluster overview</p>
      </div>

      <div className="grid gap-4 sm:grid-cols-2 xl:grid-cols-5">
        <Stat
          label="Listeners"
          loading={listeners.isPending}
          value={listeners.data?.length ?? 0}
          detail={`${routes} route${routes === 1 ? "" : "s"}`}
          href="/listeners"
          linkText="Ports and routes"
        />
        <Stat
          label="Pools"
          loading={pools.isPending}
          value={pools.data?.length ?? 0}
          detail={pools.data?.map((p) => p.name).join(", ") || "none yet"}
          href="/pools"
          linkText="Balancing setup"
        />
        <Stat
          label="Backends"
          loading={pools.isPending}
          value={backends.length}
          detail={`${backends.filter((b) => b.state === "enabled").length} enabled · ${backends.filter((b) => b.state === "draining").length} draining`}
          href="/pools"
          linkText="Backend states"
        />
        <Stat
          label="Agents connected"
          loading={agents.isPending}
          value={
            <span>
              {connected.length}
              <span className="text-base font-normal text-zinc-400"> / {liveAgents.length}</span>
            </span>
          }
          detail={
            behind > 0 ? (
              <span className="text-amber-600 dark:text-amber-400">{behind} behind the latest config</span>
            ) : connected.length > 0 ? (
              "all on the latest config"
            ) : (
              "no node connected"
            )
          }
          href="/agents"
          linkText="Node status"
        />
        <Stat
          label="Latest config"
          loading={versions.isPending}
          value={latest ? <span className="font-mono">v{latest.version}</span> : "—"}
          wrapDetail
          detail={
            latest ? (
              <>
                <span title={formatDateTime(latest.createdAt)}>{relativeTime(latest.createdAt, now)}</span> ·{" "}
                <span className="font-mono">{shortHash(latest.hash)}</span>
                <span className="block" data-testid="latest-config-author" title={latest.authorName}>
                  by {latest.authorName}
                </span>
              </>
            ) : (
              "nothing compiled yet"
            )
          }
          href="/config"
          linkText="Version history"
        />
      </div>

      {loaded && !ready ? (
        <Card className="mt-6 max-w-2xl p-5">
          <h2 className="text-sm font-semibold">Get traffic flowing</h2>
          <p className="mt-1 text-xs text-zinc-500 dark:text-zinc-400">
            {allowed("pool.write")
              ? "Four steps from an empty cluster to a node serving requests."
              : "What this cluster still needs before it serves traffic; an operator can set it up."}
          </p>
          <ol className="mt-2 divide-y divide-zinc-100 dark:divide-zinc-800">
            <Step done={(pools.data?.length ?? 0) > 0} title="Create a pool" href="/pools" cta="Open">
              Pick a balancing policy and a health check.
            </Step>
            <Step done={backends.length > 0} title="Add backends" href="/pools" cta="Open">
              The servers that receive the traffic, with their weights.
            </Step>
            <Step done={routes > 0} title="Create a listener and a route" href="/listeners" cta="Open">
              A port to accept connections on, and a route from host and path to the pool.
            </Step>
            <Step done={connected.length > 0} title="Enroll an agent" href="/agents" cta="Open">
              {allowed("agent.enroll")
                ? "Run the one-time enrollment command on a load-balancer node."
                : "An admin creates the enrollment command for each node."}
            </Step>
          </ol>
        </Card>
      ) : null}

      <TrafficSection clusterId={clusterId} />
    </>
  );
}
