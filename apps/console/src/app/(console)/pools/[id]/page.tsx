"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useParams } from "next/navigation";
import { useMemo, useState } from "react";
import { useShownBackendMetrics } from "../../../../components/board/use-shown-backend-metrics";
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
import {
  type LiveBackends,
  useLiveBackends,
  useLiveSeries,
  useMarkers,
} from "../../../../components/metrics/use-metrics";
import { BACK_LINK, DetailNotFound, DetailSkeleton } from "../../../../components/page-states";
import { policyLabel } from "../../../../components/pools/policies";
import { endpoint } from "../../../../components/pools/pool-card";
import {
  Badge,
  Button,
  Card,
  EmptyState,
  ErrorNotice,
  PageHeader,
  Skeleton,
} from "../../../../components/ui";
import type { RouterOutputs } from "../../../../lib/api-types";
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

type PoolSummary = RouterOutputs["pool"]["summary"];
type BackendCursor = RouterOutputs["pool"]["backends"]["nextCursor"];

/** Backends per page: the per-backend chart and the health timeline show one page at a time. */
const PAGE_SIZE = 25;

/** A pool's backends a page at a time (`pool.backends`), with Previous going back through the cursors seen. */
function useBackendPages(poolId: string) {
  const trpc = useTRPC();
  const [cursors, setCursors] = useState<BackendCursor[]>([null]);
  const cursor = cursors.at(-1) ?? null;
  const page = useQuery({
    ...trpc.pool.backends.queryOptions({ poolId, cursor, limit: PAGE_SIZE }),
    placeholderData: keepPreviousData,
  });
  const next = page.data?.nextCursor ?? null;
  return {
    page,
    first: (cursors.length - 1) * PAGE_SIZE,
    previous: cursors.length > 1 ? () => setCursors((c) => c.slice(0, -1)) : null,
    next: next && !page.isPlaceholderData ? () => setCursors((c) => [...c, next]) : null,
  };
}

function BackendPager({ pages }: { pages: ReturnType<typeof useBackendPages> }) {
  const { page, first, previous, next } = pages;
  const shown = page.data?.items.length ?? 0;
  const total = page.data?.total ?? 0;
  if (!page.data) return null;
  return (
    <nav
      aria-label="Backend pages"
      className="flex items-center gap-2 text-xs text-zinc-500 dark:text-zinc-400"
    >
      <span data-testid="backend-page" className="tabular-nums">
        {shown === 0 ? 0 : first + 1}–{first + shown} of {total.toLocaleString("en")}
      </span>
      {total > PAGE_SIZE ? (
        <>
          <Button size="xs" variant="ghost" disabled={!previous} onClick={() => previous?.()}>
            ← Previous
          </Button>
          <Button size="xs" variant="ghost" disabled={!next} onClick={() => next?.()}>
            Next →
          </Button>
        </>
      ) : null}
    </nav>
  );
}

/** Past this many backends the page reads the shown page's metrics only, not the whole pool's stream. */
const WHOLE_POOL_FEED_MAX = 100;

interface TrafficProps {
  pool: PoolSummary;
  clusterId: string;
  range: Range;
  setRange: (r: Range) => void;
  pages: ReturnType<typeof useBackendPages>;
}

function PoolTraffic({ pool, clusterId }: { pool: PoolSummary; clusterId: string }) {
  const [range, setRange] = useState<Range>("5m");
  const pages = useBackendPages(pool.id);
  const props = { pool, clusterId, range, setRange, pages };
  return pool._count.backends > WHOLE_POOL_FEED_MAX ? (
    <ShownFeedTraffic {...props} />
  ) : (
    <PoolFeedTraffic {...props} />
  );
}

function PoolFeedTraffic(props: TrafficProps) {
  const feed = useLiveBackends(props.pool.id, props.range);
  return <TrafficView {...props} feed={feed} />;
}

function ShownFeedTraffic(props: TrafficProps) {
  const items = props.pages.page.data?.items;
  const ids = useMemo(() => (items ?? []).map((b) => b.id), [items]);
  const feed = useShownBackendMetrics(props.pool.id, ids, props.range);
  return <TrafficView {...props} feed={feed} />;
}

function TrafficView({
  pool,
  clusterId,
  range,
  setRange,
  pages,
  feed,
}: TrafficProps & { feed: LiveBackends }) {
  const info = rangeInfo(range);
  const data = useLiveSeries("pool", pool.id, range);
  const timelineMs = info.live ? info.windowMs : 15 * 60_000;
  const history = useHealthHistory(pool.id, timelineMs);
  const markers = useMarkers(range);
  const syncKey = `pool-${clusterId}-${pool.id}`;
  const items = pages.page.data?.items;

  const backends = useMemo(
    () => (items ?? []).map((b) => ({ id: b.id, label: b.name || endpoint(b) })),
    [items],
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
        <TrafficCharts
          data={data}
          markers={markers}
          syncKey={syncKey}
          connectionsTitle="Backend connections in use"
        />
        {empty ? (
          <NoTrafficOverlay title={info.live ? "No traffic yet" : "No traffic in this range"}>
            Nothing reached this pool{info.live ? " in the last minutes" : ""}. Point a listener&apos;s route
            at it and make sure an agent is connected; requests show up here within a second.
          </NoTrafficOverlay>
        ) : null}
      </div>

      <section aria-labelledby="per-backend" className="mt-6">
        <div className="mb-3 flex flex-wrap items-center justify-between gap-3">
          <h2 id="per-backend" className="text-sm font-semibold">
            Backends
          </h2>
          <BackendPager pages={pages} />
        </div>
        {feed.error ? <ErrorNotice error={feed.error} className="mb-3" /> : null}
        {pages.page.error ? <ErrorNotice error={pages.page.error} className="mb-3" /> : null}
        {pages.page.isPending ? (
          <Skeleton className="h-64" />
        ) : backends.length === 0 ? (
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
  // The pool's settings and counts only: its backends come a page at a time.
  const summary = useQuery({ ...trpc.pool.summary.queryOptions({ id }), retry: false });
  const pool = summary.data?.clusterId === clusterId ? summary.data : undefined;

  if (summary.error && summary.error.data?.code !== "NOT_FOUND") return <ErrorNotice error={summary.error} />;
  if (summary.isPending) return <DetailSkeleton label="Loading pool" />;
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
              {plural(pool._count.backends, "backend")}
              {pool.states.draining > 0 ? ` (${pool.states.draining} draining)` : ""} ·{" "}
              {plural(pool._count.routes, "route")} in{" "}
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
