"use client";

import { useQuery } from "@tanstack/react-query";
import { useCluster } from "../../lib/console-context";
import { useTRPC } from "../../lib/trpc";
import type { BackendHealth } from "./types";

type Transitions = Record<string, { t: number; status: BackendHealth }[]>;

const STATUS_OF = {
  up: "up",
  restored: "up",
  down: "down",
  ejected: "ejected",
  drained: "draining",
} as const satisfies Record<string, BackendHealth>;

/**
 * The health changes agents reported for a pool over the last `windowMs`, so the
 * timeline shows what happened before the page was opened; refreshed each minute.
 */
export function useHealthHistory(poolId: string, windowMs: number): Transitions {
  const trpc = useTRPC();
  const { clusterId } = useCluster();
  // Rounded to the minute so the query key (and cache) stays put between refreshes.
  const to = Math.ceil(Date.now() / 60_000) * 60_000;
  const events = useQuery({
    ...trpc.metrics.healthEvents.queryOptions({ clusterId, poolId, from: to - windowMs, to }),
    refetchInterval: 60_000,
  });
  const out: Transitions = {};
  for (const e of events.data ?? []) {
    const list = out[e.backendId] ?? [];
    list.push({ t: e.t, status: STATUS_OF[e.state] });
    out[e.backendId] = list;
  }
  return out;
}

/** History first, then what the live stream saw; a repeat of the same status is not a change. */
export function mergeTransitions(history: Transitions, live: Transitions): Transitions {
  const out: Transitions = {};
  for (const id of new Set([...Object.keys(history), ...Object.keys(live)])) {
    const merged = [...(history[id] ?? []), ...(live[id] ?? [])].sort((a, b) => a.t - b.t);
    out[id] = merged.filter((x, i) => i === 0 || merged[i - 1]!.status !== x.status);
  }
  return out;
}
