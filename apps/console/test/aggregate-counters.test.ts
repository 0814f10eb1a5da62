import { TRAFFIC_COUNTERS, trafficDeltaSchema } from "@fulcrum/protocol";
import { describe, expect, it } from "vitest";
import { addShare, aggToJson, deltaVec, newAgg } from "../src/server/metrics/aggregate";

describe("an aggregate of traffic deltas", () => {
  it("keeps every counter of the protocol's stats schema under its own name, and the gauges as value × seconds", () => {
    const raw = Object.fromEntries(TRAFFIC_COUNTERS.map((f, i) => [f, (i + 1) * 10]));
    const delta = trafficDeltaSchema.parse({ ...raw, activeConnections: 3, queueLength: 2 });
    const agg = newAgg();
    addShare(agg, deltaVec(delta), 0.5, 2, false);
    const { counters } = aggToJson(agg);
    for (const [i, f] of TRAFFIC_COUNTERS.entries()) expect(counters[f], f).toBe((i + 1) * 5);
    expect(counters.activeConnectionsSec).toBe(6);
    expect(counters.queueLengthSec).toBe(4);
  });
});
