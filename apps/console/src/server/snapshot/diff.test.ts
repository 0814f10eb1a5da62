import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { compileSnapshotBody, type TopologyRows } from "./compile";
import { diffSnapshots } from "./diff";

const rows = JSON.parse(
  readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), "golden/basic.topology.json"), "utf8"),
) as TopologyRows;

describe("snapshot diff", () => {
  it("is empty between equal snapshots", () => {
    expect(diffSnapshots(compileSnapshotBody(rows), compileSnapshotBody(rows))).toEqual([]);
  });

  it("names what was added, removed and changed, in words", () => {
    const next = structuredClone(rows);
    next.pools[0]!.backends[0]!.state = "enabled"; // web-2 was draining
    next.pools[0]!.backends.pop(); // web-1 removed
    next.pools[1]!.policy = "least_connections";
    next.pools[2]!.backends.push({
      id: "b9",
      name: "",
      address: "10.9.9.9",
      port: 5432,
      weight: 1,
      state: "enabled",
      backup: false,
    });
    next.listeners[1]!.routes[0]!.poolId = "p-api";
    const changes = diffSnapshots(compileSnapshotBody(rows), compileSnapshotBody(next));
    expect(changes).toEqual(
      expect.arrayContaining([
        { change: "removed", object: "backend web-1 10.0.0.1:8080 in pool web" },
        {
          change: "changed",
          object: "backend web-2 10.0.0.2:8080 in pool web",
          field: "state",
          before: "draining",
          after: "enabled",
        },
        {
          change: "changed",
          object: "pool api",
          field: "policy",
          before: "weighted_round_robin",
          after: "least_connections",
        },
        expect.objectContaining({ change: "added", object: "backend 10.9.9.9:5432 in pool db" }),
        {
          change: "changed",
          object: "route any host / on listener web",
          field: "pool",
          before: "web",
          after: "api",
        },
      ]),
    );
    expect(changes).toHaveLength(5);
  });
});
