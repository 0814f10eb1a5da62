"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { useCluster } from "../../lib/console-context";
import { useTRPC, useTRPCClient } from "../../lib/trpc";
import type { LiveState } from "./range-picker";
import { TimeStore } from "./store";
import {
  type BackendHealth,
  type BackendsRow,
  type Marker,
  type Range,
  rangeInfo,
  type Scope,
  type SeriesPoint,
} from "./types";

function hasTraffic(p: SeriesPoint): boolean {
  return (
    p.rps > 0 || p.activeConnections > 0 || p.bytesInPerSec > 0 || p.bytesOutPerSec > 0 || p.tlsHandshakes > 0
  );
}

/** One store per key: a new cluster, scope or range starts from an empty buffer. */
function useKeyedStore<T extends { t: number }>(key: string, range: Range): TimeStore<T> {
  const ref = useRef<{ key: string; store: TimeStore<T> } | null>(null);
  if (!ref.current || ref.current.key !== key) {
    const info = rangeInfo(range);
    ref.current = { key, store: new TimeStore<T>(info.windowMs, info.live) };
  }
  return ref.current.store;
}

/** Keeps a live store's window moving while the stream is quiet. */
function useTicker(store: TimeStore<{ t: number }>, on: boolean) {
  useEffect(() => {
    if (!on) return;
    const timer = setInterval(() => store.tick(), 1000);
    return () => clearInterval(timer);
  }, [store, on]);
}

export interface LiveSeries {
  store: TimeStore<SeriesPoint>;
  /** History is still loading and nothing has streamed in yet. */
  loading: boolean;
  error: unknown;
  /** Some point of this window carried requests, connections, bytes or TLS handshakes. */
  hasTraffic: boolean;
  liveState: LiveState;
  live: boolean;
}

/**
 * History from `metrics.series`, then, for the live ranges, one point a second from
 * `metrics.live`. Points go into a TimeStore that charts read; React state changes
 * only when loading, traffic or connection state do.
 */
export function useLiveSeries(scope: Scope, id: string | undefined, range: Range): LiveSeries {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const { clusterId } = useCluster();
  const info = rangeInfo(range);
  const key = `${clusterId}|${scope}|${id ?? ""}|${range}`;
  const store = useKeyedStore<SeriesPoint>(key, range);
  const [trafficKey, setTrafficKey] = useState<string | null>(null);
  const [streamed, setStreamed] = useState<string | null>(null);
  const [liveState, setLiveState] = useState<LiveState>("off");

  const history = useQuery({
    ...trpc.metrics.series.queryOptions({ clusterId, scope, ...(id ? { id } : {}), range }),
    staleTime: info.live ? 0 : info.refetchMs,
    refetchInterval: info.live ? false : info.refetchMs,
    refetchOnWindowFocus: !info.live,
  });

  useEffect(() => {
    const data = history.data;
    if (!data) return;
    store.setHistory(data.points, data.stepMs);
    if (data.points.some(hasTraffic)) setTrafficKey(key);
  }, [history.data, store, key]);

  const refetchRef = useRef(history.refetch);
  refetchRef.current = history.refetch;

  useEffect(() => {
    if (!info.live) {
      setLiveState("off");
      return;
    }
    setLiveState("connecting");
    let seenTraffic = false;
    let first = true;
    let starts = 0;
    const sub = client.metrics.live.subscribe(
      { clusterId, scope, ...(id ? { id } : {}) },
      {
        onStarted: () => {
          setLiveState("live");
          // After a reconnect, fill the seconds the stream missed from history.
          if (starts++ > 0) void refetchRef.current();
        },
        onData: (point) => {
          store.push(point);
          if (first) {
            first = false;
            setStreamed(key);
            setLiveState("live");
          }
          if (!seenTraffic && hasTraffic(point)) {
            seenTraffic = true;
            setTrafficKey(key);
          }
        },
        onError: () => setLiveState("reconnecting"),
        onConnectionStateChange: (s) => {
          if (s.state === "connecting" && s.error) setLiveState("reconnecting");
          else if (s.state === "pending") setLiveState("live");
        },
      },
    );
    return () => sub.unsubscribe();
  }, [client, clusterId, scope, id, info.live, store, key]);

  useTicker(store, info.live);

  return {
    store,
    loading: history.isPending && streamed !== key,
    error: history.error,
    hasTraffic: trafficKey === key,
    liveState,
    live: info.live,
  };
}

export interface LiveBackends {
  store: TimeStore<BackendsRow>;
  /** The newest health of each backend (changes rarely, so it is state). */
  status: Record<string, BackendHealth>;
  /** Health changes seen per backend, oldest first: [time, status]. */
  transitions: Record<string, { t: number; status: BackendHealth }[]>;
  loading: boolean;
  error: unknown;
  /** State of the chart stream ("off" for historical ranges). */
  liveState: LiveState;
  /** State of the backend stream itself, which runs for health on every range. */
  streamState: LiveState;
}

function sameStatus(a: Record<string, BackendHealth>, b: Record<string, BackendHealth>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

/** Zips per-backend series into one row per time. */
function zipBackends(series: Record<string, SeriesPoint[]>): BackendsRow[] {
  const byT = new Map<number, BackendsRow>();
  for (const [backendId, points] of Object.entries(series)) {
    for (const p of points) {
      let row = byT.get(p.t);
      if (!row) {
        row = { t: p.t, points: {} };
        byT.set(p.t, row);
      }
      row.points[backendId] = p;
    }
  }
  return [...byT.values()].sort((a, b) => a.t - b.t);
}

/**
 * A pool's backends: history from `metrics.poolBackends`, then `metrics.liveBackends`.
 * `stream: false` polls the history instead (for pages with many pools, where one
 * event stream per pool would use up the browser's connections to the console).
 */
export function useLiveBackends(
  poolId: string,
  range: Range,
  { stream = true }: { stream?: boolean } = {},
): LiveBackends {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const { clusterId } = useCluster();
  const info = rangeInfo(range);
  const key = `${clusterId}|${poolId}|${range}|${stream}`;
  const store = useKeyedStore<BackendsRow>(key, range);
  const appendLive = info.live && stream;
  const [status, setStatus] = useState<Record<string, BackendHealth>>({});
  const [transitions, setTransitions] = useState<LiveBackends["transitions"]>({});
  const [liveState, setLiveState] = useState<LiveState>("off");
  const statusRef = useRef<Record<string, BackendHealth>>({});

  const polling = !stream ? 5000 : info.live ? false : info.refetchMs;
  const history = useQuery({
    ...trpc.metrics.poolBackends.queryOptions({ clusterId, poolId, range }),
    staleTime: polling || 0,
    refetchInterval: polling,
    refetchOnWindowFocus: !appendLive,
    placeholderData: stream ? undefined : keepPreviousData,
  });

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new key starts a new history
  useEffect(() => {
    statusRef.current = {};
    setStatus({});
    setTransitions({});
  }, [key]);

  const applyStatus = useRef((next: Record<string, BackendHealth>, t: number) => {
    const prev = statusRef.current;
    if (sameStatus(prev, next)) return;
    statusRef.current = { ...next };
    setStatus({ ...next });
    setTransitions((old) => {
      const out = { ...old };
      for (const [backendId, s] of Object.entries(next)) {
        const list = out[backendId] ?? [];
        if (list.at(-1)?.status !== s) out[backendId] = [...list, { t, status: s }].slice(-200);
      }
      return out;
    });
  }).current;

  useEffect(() => {
    const data = history.data;
    if (!data) return;
    const rows = zipBackends(data.series);
    store.setHistory(rows, data.stepMs);
    applyStatus(data.status, rows.at(-1)?.t ?? Date.now());
  }, [history.data, store, applyStatus]);

  useEffect(() => {
    if (!stream) {
      setLiveState("off");
      return;
    }
    setLiveState("connecting");
    const sub = client.metrics.liveBackends.subscribe(
      { clusterId, poolId },
      {
        onStarted: () => setLiveState("live"),
        onData: (row) => {
          if (appendLive) store.push({ t: row.t, points: row.points });
          applyStatus(row.status, row.t);
        },
        onError: () => setLiveState("reconnecting"),
        onConnectionStateChange: (s) => {
          if (s.state === "connecting" && s.error) setLiveState("reconnecting");
          else if (s.state === "pending") setLiveState("live");
        },
      },
    );
    return () => sub.unsubscribe();
  }, [client, clusterId, poolId, stream, appendLive, store, applyStatus]);

  useTicker(store, appendLive);

  return {
    store,
    status,
    transitions,
    loading: history.isPending,
    error: history.error,
    liveState: appendLive ? liveState : "off",
    streamState: liveState,
  };
}

/**
 * Config versions and agent ACK/NACKs in the window. The query window is anchored
 * every ten minutes (and reaches a day ahead), so its key stays put while it refreshes.
 */
export function useMarkers(range: Range, filter?: (m: Marker) => boolean): readonly Marker[] {
  const trpc = useTRPC();
  const { clusterId } = useCluster();
  const info = rangeInfo(range);
  const [anchor, setAnchor] = useState(() => Math.floor(Date.now() / 600_000) * 600_000);
  useEffect(() => {
    const timer = setInterval(() => setAnchor(Math.floor(Date.now() / 600_000) * 600_000), 60_000);
    return () => clearInterval(timer);
  }, []);
  const markers = useQuery({
    ...trpc.metrics.markers.queryOptions({
      clusterId,
      from: anchor - info.windowMs - 600_000,
      to: anchor + 86_400_000,
    }),
    refetchInterval: info.live ? 5000 : info.refetchMs,
    placeholderData: keepPreviousData,
  });
  const list = markers.data ?? EMPTY;
  const filterRef = useRef(filter);
  filterRef.current = filter;
  const [filtered, setFiltered] = useState<readonly Marker[]>(EMPTY);
  useEffect(() => {
    setFiltered(filterRef.current ? list.filter(filterRef.current) : list);
  }, [list]);
  return filtered;
}

const EMPTY: readonly Marker[] = [];
