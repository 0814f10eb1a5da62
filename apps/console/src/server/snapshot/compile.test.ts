import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { snapshotSchema } from "@fulcrum/protocol";
import { describe, expect, it } from "vitest";
import { canonicalJson, compileSnapshotBody, hashSnapshotBody, type TopologyRows } from "./compile";

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), "golden");
const cases = readdirSync(dir).filter((f) => f.endsWith(".topology.json"));

/**
 * Golden files: `<case>.topology.json` in, `<case>.snapshot.json` out.
 * Run with UPDATE_GOLDEN=1 to rewrite them after an intended change, and review the diff.
 */
describe("snapshot compiler golden files", () => {
  it.each(cases)("%s", (file) => {
    const rows = JSON.parse(readFileSync(path.join(dir, file), "utf8")) as TopologyRows;
    const body = compileSnapshotBody(rows);
    const out = `${JSON.stringify({ hash: hashSnapshotBody(body), ...body }, null, 2)}\n`;
    const goldenPath = path.join(dir, file.replace(".topology.json", ".snapshot.json"));
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(goldenPath, out);
    expect(out).toBe(readFileSync(goldenPath, "utf8"));
    // What the compiler emits must be a snapshot the agent accepts.
    expect(
      snapshotSchema.safeParse({ version: 1, clusterId: "c", createdAt: "t", ...JSON.parse(out) }).success,
    ).toBe(true);
  });

  it("hashes equal topologies equally, whatever the row and key order", () => {
    const rows = JSON.parse(readFileSync(path.join(dir, cases[0]!), "utf8")) as TopologyRows;
    const shuffled: TopologyRows = {
      listeners: [...rows.listeners].reverse().map((l) => ({ ...l, routes: [...l.routes].reverse() })),
      pools: [...rows.pools].reverse().map((p) => ({ ...p, backends: [...p.backends].reverse() })),
    };
    expect(hashSnapshotBody(compileSnapshotBody(shuffled))).toBe(hashSnapshotBody(compileSnapshotBody(rows)));
    const changed = structuredClone(rows);
    changed.pools[0]!.backends[0]!.weight = 7;
    expect(hashSnapshotBody(compileSnapshotBody(changed))).not.toBe(
      hashSnapshotBody(compileSnapshotBody(rows)),
    );
  });

  it("refuses a redirect route whose pool has a backend without a public base URL, naming it", () => {
    const rows = JSON.parse(readFileSync(path.join(dir, "redirect.topology.json"), "utf8")) as TopologyRows;
    rows.pools[0]!.backends[0]!.publicBaseUrl = null;
    expect(() => compileSnapshotBody(rows)).toThrow(/mirrors.*mirror-2/);
    // The same pool behind a proxy route only is fine.
    for (const r of rows.listeners[0]!.routes) r.action = "proxy";
    expect(compileSnapshotBody(rows).listeners[0]!.routes.every((r) => r.redirect === undefined)).toBe(true);
  });

  it("writes canonical JSON with sorted keys", () => {
    expect(canonicalJson({ b: 1, a: { d: 1, c: 2 } })).toBe('{"a":{"c":2,"d":1},"b":1}');
  });
});
