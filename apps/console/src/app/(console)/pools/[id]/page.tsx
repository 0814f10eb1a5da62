"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useParams } from "next/navigation";
import { useMemo, useState } from "react";
import { HistoryLink } from "../../../../components/history-link";
import { PoolIcon } from "../../../../components/icons";
import { HealthTimeline } from "../../../../components/metrics/health";
import { NoTrafficOverlay } from "../../../../components/metrics/no-traffic";
import { LiveIndicator, RangePicker } from "../../../../components/metrics/range-picker";
import {
  type ChartSeries,
  seriesColor,
  TimeSeriesChart,
} from "../../../../components/metrics/time-series-chart";
import { TrafficCharts } from "../../../../components/metrics/traffic-charts";
import { type BackendsRow, type Range, rangeInfo } from "../../../../components/metrics/types";
import { mergeTransitions, useHealthHistory } from "../../../../components/metrics/use-health-history";
import { useLiveBackends, useLiveSeries, useMarkers } from "../../../../components/metrics/use-metrics";
import { BACK_LINK, DetailNotFound, DetailSkeleton } from "../../../../components/page-states";
import { policyLabel } from "../../../../components/pools/policies";
import { endpoint } from "../../../../components/pools/pool-card";
import { Badge, Card, EmptyState, ErrorNotice, PageHeader } from "../../../../components/ui";
import type { Pool } from "../../../../lib/api-types";
import { useCluster } from "../../../../lib/console-context";
import { plural } from "../../../../lib/format";
import { useTRPC } from "../../../../lib/trpc";

/**
 * What a backend's rate counts depends on what sends the pool traffic: a DNS
 * listener counts answers naming the backend, a redirect route its redirects.
 */
function useBackendRateTitle(poolId: string, clusterId: string): string {
  const trpc = useTRPC();
  const listeners = useQuery(trpc.listener.list.queryOptions({ clusterId }));
  const kinds = new Set<string>();
  for (const l of listeners.data ?? []) {
    for (const r of l.routes) {
      if (r.poolId !== poolId) continue;
      kinds.add(l.protocol === "dns" ? "DNS answers" : r.action === "redirect" ? "redirects" : "requests");
    }
  }
  const what = kinds.size === 0 ? ["requests"] : [...kinds].sort();
  const text = what.join(" + ");
  return `${text.charAt(0).toUpperCase()}${text.slice(1)} per second by backend`;
}

function PoolTraffic({ pool, clusterId }: { pool: Pool; clusterId: string }) {
  const [range, setRange] = useState<Range>("5m");
  const info = rangeInfo(range);
  const data = useLiveSeries("pool", pool.id, range);
  const feed = useLiveBackends(pool.id, range);
  const timelineMs = info.live ? info.windowMs : 15 * 60_000;
  const history = useHealthHistory(pool.id, timelineMs);
  const markers = useMarkers(range);
  const syncKey = `pool-${clusterId}-${pool.id}`;

  const backends = useMemo(
    () => pool.backends.map((b) => ({ id: b.id, label: b.name || endpoint(b) })),
    [pool.backends],
  );
  const perBackend = useMemo(
    () =>
      backends.map(
        (b, i): ChartSeries<BackendsRow> => ({
          label: b.label,
          color: seriesColor(i),
          value: (r) => r.points[b.id]?.rps ?? null,
        }),
      ),
    [backends],
  );
  const empty = !data.loading && !data.hasTraffic && !data.error;
  const rateTitle = useBackendRateTitle(pool.id, clusterId);

  return (
    <>
      <div className="mb-3 flex flex-wrap items-center justify-between gap-3">
        <h2 className="text-sm font-semibold">Traffic</h2>
        <div className="flex items-center gap-3">
          <LiveIndicator state={data.liveState} />
          <RangePicker value={range} onChange={setRange} />
        </div>
      </div>
      {data.error ? <ErrorNotice error={data.error} className="mb-3" /> : null}
      <div className="relative">
        <TrafficCharts data={data} markers={markers} syncKey={syncKey} />
        {empty ? (
          <NoTrafficOverlay title={info.live ? "No traffic yet" : "No traffic in this range"}>
            Nothing reached this pool{info.live ? " in the last minutes" : ""}. Point a listener&apos;s route
            at it and make sure an agent is connected; requests show up here within a second.
          </NoTrafficOverlay>
        ) : null}
      </div>

      <section aria-labelledby="per-backend" className="mt-6">
        <h2 id="per-backend" className="mb-3 text-sm font-semibold">
          Backends
        </h2>
        {feed.error ? <ErrorNotice error={feed.error} className="mb-3" /> : null}
        {backends.length === 0 ? (
          <EmptyState title="No backends in this pool">
            Add backends on the pools page; their requests and health show up here.
          </EmptyState>
        ) : (
          <div className="grid gap-4 xl:grid-cols-2">
            <TimeSeriesChart
              title={rateTitle}
              unit="rps"
              store={feed.store}
              series={perBackend}
              markers={markers}
              syncKey={syncKey}
              loading={feed.loading}
              height={220}
              legendRows={Math.min(4, Math.ceil(backends.length / 3))}
            />
            <Card className="p-3">
              <div className="mb-3 flex h-5 items-center justify-between">
                <h3 className="text-xs font-medium uppercase tracking-wide text-zinc-500 dark:text-zinc-400">
                  Health timeline
                </h3>
                <LiveIndicator state={feed.streamState} />
              </div>
              <HealthTimeline
                backends={backends}
                transitions={mergeTransitions(history, feed.transitions)}
                windowMs={timelineMs}
                caption={`Last ${info.live ? info.label.replace("Live ", "") : "15 min"}: health checks and outlier detection as the agents reported them`}
              />
            </Card>
          </div>
        )}
      </section>
    </>
  );
}

export default function PoolDetailPage() {
  const { id } = useParams<{ id: string }>();
  const trpc = useTRPC();
  const { clusterId, cluster } = useCluster();
  const pools = useQuery(trpc.pool.list.queryOptions({ clusterId }));
  const pool = pools.data?.find((p) => p.id === id);

  if (pools.error) return <ErrorNotice error={pools.error} />;
  if (pools.isPending) return <DetailSkeleton label="Loading pool" />;
  if (!pool)
    return (
      <DetailNotFound
        icon={<PoolIcon />}
        title="Pool not found"
        href="/pools"
        backLabel={`Every pool of ${cluster.name}`}
      >
        It may have been deleted, or it belongs to another cluster than {cluster.name}.
      </DetailNotFound>
    );

  return (
    <>
      <Link href="/pools" className={BACK_LINK}>
        ← Every pool
      </Link>
      <div className="mt-2">
        <PageHeader
          title={pool.name}
          description={
            <span className="inline-flex flex-wrap items-center gap-2">
              <Badge tone="indigo">{policyLabel(pool.policy)}</Badge>
              {plural(pool.backends.length, "backend")} · {plural(pool._count.routes, "route")} in{" "}
              <span className="font-medium text-zinc-700 dark:text-zinc-200">{cluster.name}</span>
            </span>
          }
          actions={<HistoryLink targetType="pool" targetId={pool.id} label={pool.name} />}
        />
      </div>
      <PoolTraffic key={pool.id} pool={pool} clusterId={clusterId} />
    </>
  );
}
