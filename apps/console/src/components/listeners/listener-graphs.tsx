"use client";

import { useState } from "react";
import type { Listener } from "../../lib/api-types";
import { NoTrafficOverlay } from "../metrics/no-traffic";
import { LiveIndicator, RangePicker } from "../metrics/range-picker";
import { TlsCharts } from "../metrics/tls-charts";
import { TrafficCharts } from "../metrics/traffic-charts";
import { type Range, rangeInfo } from "../metrics/types";
import { useLiveSeries, useMarkers } from "../metrics/use-metrics";
import { ErrorNotice } from "../ui";

/**
 * One listener's graphs, opened from its card: the traffic set, plus the TLS
 * handshake charts when the listener terminates TLS, all with the cluster's
 * config-version markers.
 */
export function ListenerGraphs({ listener, clusterId }: { listener: Listener; clusterId: string }) {
  const [range, setRange] = useState<Range>("5m");
  const data = useLiveSeries("listener", listener.id, range);
  const markers = useMarkers(range);
  const empty = !data.loading && !data.hasTraffic && !data.error;
  const syncKey = `listener-${clusterId}-${listener.id}`;
  return (
    <section aria-label={`Graphs of listener ${listener.name}`}>
      <div className="mb-3 flex flex-wrap items-center justify-end gap-3">
        <LiveIndicator state={data.liveState} />
        <RangePicker value={range} onChange={setRange} />
      </div>
      {data.error ? <ErrorNotice error={data.error} className="mb-3" /> : null}
      <div className="relative">
        <TrafficCharts data={data} markers={markers} syncKey={syncKey}>
          {listener.tls ? <TlsCharts data={data} markers={markers} syncKey={syncKey} /> : null}
        </TrafficCharts>
        {empty ? (
          <NoTrafficOverlay title={rangeInfo(range).live ? "No traffic yet" : "No traffic in this range"}>
            No node reported connections on this listener in this window.
          </NoTrafficOverlay>
        ) : null}
      </div>
    </section>
  );
}
