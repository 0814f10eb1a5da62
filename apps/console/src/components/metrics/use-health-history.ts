"use client";

import { useQuery } from "@tanstack/react-query";
import { useCluster } from "../../lib/console-context";
import { useTRPC } from "../../lib/trpc";
import type { BackendHealth } from "./types";

/** A backend's status from `t` on; null: it was not in the pool then. */
export type Transition = { t: number; status: BackendHealth | null; reason?: string };
type Transitions = Record<string, Transition[]>;

/**
 * Each backend's status over the last `windowMs` as the agents reported it
 * (`metrics.healthTimeline`: health events and configured states, with the
 * state at the start of the window carried in), refreshed each minute.
 */
export function useHealthHistory(poolId: string, windowMs: number): Transitions {
  const trpc = useTRPC();
  const { clusterId } = useCluster();
  // Rounded to the minute so the query key (and cache) stays put between refreshes;
  // a minute more than the window, so its left edge is covered until the next refresh.
  const to = Math.ceil(Date.now() / 60_000) * 60_000;
  const timeline = useQuery({
    ...trpc.metrics.healthTimeline.queryOptions({ clusterId, poolId, from: to - windowMs - 60_000, to }),
    refetchInterval: 60_000,
  });
  return timeline.data ?? EMPTY;
}

const EMPTY: Transitions = {};

/**
 * History up to the moment it was read, then what the live stream saw after it;
 * a repeat of the same status is not a change.
 */
export function mergeTransitions(history: Transitions, live: Record<string, Transition[]>): Transitions {
  const out: Transitions = {};
  for (const id of new Set([...Object.keys(history), ...Object.keys(live)])) {
    const past = history[id] ?? [];
    const end = past.at(-1)?.t ?? Number.NEGATIVE_INFINITY;
    const merged = [...past, ...(live[id] ?? []).filter((x) => x.t > end)];
    out[id] = merged.filter((x, i) => i === 0 || merged[i - 1]!.status !== x.status);
  }
  return out;
}
