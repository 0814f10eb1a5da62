"use client";

import { type ChartSeries, COLORS, TimeSeriesChart } from "./time-series-chart";
import type { Marker, SeriesPoint } from "./types";
import type { LiveSeries } from "./use-metrics";

const HANDSHAKES: ChartSeries<SeriesPoint>[] = [
  { label: "Handshakes", color: COLORS.indigo, value: (p) => p.tlsHandshakes },
];
const RESUMED: ChartSeries<SeriesPoint>[] = [
  { label: "Resumed", color: COLORS.emerald, value: (p) => p.tlsResumedPercent },
];
const FAILURES: ChartSeries<SeriesPoint>[] = [
  { label: "Unknown name", color: COLORS.amber, value: (p) => p.tlsFailedUnknownName },
  { label: "No shared cipher", color: COLORS.red, value: (p) => p.tlsFailedNoSharedCipher },
  { label: "Protocol version", color: COLORS.violet, value: (p) => p.tlsFailedProtocolVersion },
  { label: "Other", color: COLORS.sky, value: (p) => p.tlsFailedOther },
];

/**
 * A TLS listener's handshakes: completed per second, the share that resumed a
 * session (tickets shared by the cluster's nodes keep it high), and failures
 * per second by reason. Meant as TrafficCharts' extra cells, so they share its
 * markers and cursor. Test ids: tls-handshakes-now, tls-resumed-now, tls-failures-now.
 */
export function TlsCharts({
  data,
  markers,
  syncKey,
}: {
  data: LiveSeries;
  markers: readonly Marker[];
  syncKey: string;
}) {
  const common = { store: data.store, markers, syncKey, loading: data.loading } as const;
  return (
    <>
      <TimeSeriesChart
        title="TLS handshakes per second"
        unit="persec"
        series={HANDSHAKES}
        nowTestId="tls-handshakes-now"
        {...common}
      />
      <TimeSeriesChart
        title="Resumed handshakes"
        unit="percent"
        yMax={100}
        series={RESUMED}
        nowTestId="tls-resumed-now"
        {...common}
      />
      <TimeSeriesChart
        title="Failed handshakes per second"
        unit="persec"
        series={FAILURES}
        legendRows={2}
        nowTestId="tls-failures-now"
        {...common}
      />
    </>
  );
}
