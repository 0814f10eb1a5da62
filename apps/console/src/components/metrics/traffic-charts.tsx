"use client";

import type { ReactNode } from "react";
import { type ChartSeries, COLORS, TimeSeriesChart } from "./time-series-chart";
import type { Marker, SeriesPoint } from "./types";
import type { LiveSeries } from "./use-metrics";

const RPS: ChartSeries<SeriesPoint>[] = [{ label: "Requests", color: COLORS.indigo, value: (p) => p.rps }];
const ERRORS: ChartSeries<SeriesPoint>[] = [
  { label: "4xx", color: COLORS.amber, value: (p) => p.errorRate4xx },
  { label: "5xx", color: COLORS.red, value: (p) => p.errorRate5xx },
];
const LATENCY: ChartSeries<SeriesPoint>[] = [
  { label: "p50", color: COLORS.emerald, value: (p) => p.p50 },
  { label: "p95", color: COLORS.amber, value: (p) => p.p95 },
  { label: "p99", color: COLORS.red, value: (p) => p.p99 },
];
const CONNECTIONS: ChartSeries<SeriesPoint>[] = [
  { label: "Open", color: COLORS.sky, value: (p) => p.activeConnections },
];
const BYTES: ChartSeries<SeriesPoint>[] = [
  { label: "In", color: COLORS.teal, value: (p) => p.bytesInPerSec },
  { label: "Out", color: COLORS.violet, value: (p) => p.bytesOutPerSec },
];

/**
 * The standard set: requests/s, errors/s, latency, connections, bytes/s. Each chart's
 * visually hidden latest value of its first line carries a test id: rps-now,
 * errors-4xx-now, p50-now, connections-now, bytes-in-now ("<number> <unit>" or "no data").
 */
export function TrafficCharts({
  data,
  markers,
  syncKey,
  connectionsTitle = "Active connections",
  children,
}: {
  data: LiveSeries;
  markers: readonly Marker[];
  syncKey: string;
  /**
   * What the connections gauge counts here: client connections for listeners and
   * the cluster, connections and requests in progress to backends for a pool.
   */
  connectionsTitle?: string;
  /** Extra cells appended to the grid (same height as a chart). */
  children?: ReactNode;
}) {
  const common = { store: data.store, markers, syncKey, loading: data.loading } as const;
  return (
    <div className="grid gap-4 lg:grid-cols-2 2xl:grid-cols-3">
      <TimeSeriesChart title="Requests per second" unit="rps" series={RPS} nowTestId="rps-now" {...common} />
      <TimeSeriesChart
        title="Errors per second"
        unit="rps"
        series={ERRORS}
        nowTestId="errors-4xx-now"
        {...common}
      />
      <TimeSeriesChart title="Latency" unit="ms" series={LATENCY} nowTestId="p50-now" {...common} />
      <TimeSeriesChart
        title={connectionsTitle}
        unit="count"
        series={CONNECTIONS}
        nowTestId="connections-now"
        {...common}
      />
      <TimeSeriesChart title="Throughput" unit="bytes" series={BYTES} nowTestId="bytes-in-now" {...common} />
      {children}
    </div>
  );
}
