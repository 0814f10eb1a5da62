"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { useCluster } from "../../lib/console-context";
import { useTRPC } from "../../lib/trpc";
import { TimeStore } from "../metrics/store";
import {
  type BackendHealth,
  type BackendsRow,
  type Range,
  rangeInfo,
  type SeriesPoint,
} from "../metrics/types";
import type { LiveBackends } from "../metrics/use-metrics";

const POLL_MS = 5000;
/** Scrolling changes what is shown many times a second; ask once it settles. */
const SETTLE_MS = 250;

function useSettled<T>(value: T, key: string): T {
  const [settled, setSettled] = useState(value);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` says when `value` changed
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), SETTLE_MS);
    return () => clearTimeout(timer);
  }, [key]);
  return settled;
}

function zip(series: Record<string, SeriesPoint[]>): BackendsRow[] {
  const byT = new Map<number, BackendsRow>();
  for (const [id, points] of Object.entries(series)) {
    for (const p of points) {
      let row = byT.get(p.t);
      if (!row) {
        row = { t: p.t, points: {} };
        byT.set(p.t, row);
      }
      row.points[id] = p;
    }
  }
  return [...byT.values()].sort((a, b) => a.t - b.t);
}

/**
 * Live metrics of the backends on screen only (`pool.cardMetrics`, polled), in
 * the shape the cards and rows read (`LiveBackends`). For pools too large for
 * `useLiveBackends`, which loads and streams every backend of the pool.
 */
export function useShownBackendMetrics(
  poolId: string,
  shown: readonly string[],
  range: Range = "5m",
): LiveBackends {
  const trpc = useTRPC();
  const { clusterId } = useCluster();
  const ids = useSettled(shown, shown.join(","));
  const info = rangeInfo(range);
  // One store per pool and range (a new range is a new window).
  // biome-ignore lint/correctness/useExhaustiveDependencies: poolId starts a new history
  const store = useMemo(() => new TimeStore<BackendsRow>(info.windowMs, false), [poolId, info.windowMs]);
  const query = useQuery({
    ...trpc.pool.cardMetrics.queryOptions({ clusterId, poolId, ids: [...ids], range }),
    enabled: ids.length > 0,
    refetchInterval: POLL_MS,
    placeholderData: keepPreviousData,
  });
  const [status, setStatus] = useState<Record<string, BackendHealth>>({});
  useEffect(() => {
    const data = query.data;
    if (!data) return;
    store.setHistory(zip(data.series), data.stepMs);
    setStatus((prev) => ({ ...prev, ...data.status }));
  }, [query.data, store]);
  return {
    store,
    status,
    transitions: {},
    loading: ids.length > 0 && query.isPending,
    error: query.error,
    liveState: "off",
    streamState: "off",
  };
}
