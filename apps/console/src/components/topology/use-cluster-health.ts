"use client";

import { keepPreviousData, useQueries } from "@tanstack/react-query";
import { useCluster } from "../../lib/console-context";
import { useTRPC } from "../../lib/trpc";
import type { BackendHealth } from "../metrics/types";

/**
 * The newest health of every backend in the given pools, polled every few seconds
 * (one batched request): pages that show many pools at once must not hold an event
 * stream per pool.
 */
export function useBackendHealth(poolIds: readonly string[]): {
  health: Record<string, BackendHealth>;
  rps: Record<string, number>;
  loading: boolean;
} {
  const trpc = useTRPC();
  const { clusterId } = useCluster();
  const results = useQueries({
    queries: poolIds.map((poolId) => ({
      ...trpc.metrics.poolBackends.queryOptions({ clusterId, poolId, range: "5m" }),
      refetchInterval: 5000,
      staleTime: 4000,
      placeholderData: keepPreviousData,
    })),
  });
  const health: Record<string, BackendHealth> = {};
  const rps: Record<string, number> = {};
  for (const r of results) {
    if (!r.data) continue;
    Object.assign(health, r.data.status);
    for (const [id, points] of Object.entries(r.data.series)) rps[id] = points.at(-1)?.rps ?? 0;
  }
  return { health, rps, loading: results.some((r) => r.isPending) };
}

export type Rollup = "up" | "degraded" | "down" | "unknown";

/** One colour for a group of backends: all serving, some not, none. */
export function rollup(states: readonly BackendHealth[]): Rollup {
  const live = states.filter((s) => s !== "disabled");
  if (live.length === 0) return "unknown";
  const up = live.filter((s) => s === "up" || s === "draining").length;
  if (live.every((s) => s === "unknown")) return "unknown";
  if (up === live.length) return "up";
  return up === 0 ? "down" : "degraded";
}
