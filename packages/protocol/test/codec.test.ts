import { describe, expect, it } from "vitest";
import {
  decodeAgentMessage,
  decodeConsoleMessage,
  encodeAgentMessage,
  encodeConsoleMessage,
  PROTOCOL_VERSION,
  type SnapshotInput,
  snapshotSchema,
} from "../src/index";

const snapshot: SnapshotInput = {
  version: 3,
  hash: "a".repeat(64),
  clusterId: "c1",
  createdAt: "2026-01-01T00:00:00.000Z",
  listeners: [
    {
      id: "l1",
      name: "web",
      protocol: "http",
      bindAddress: "0.0.0.0",
      port: 80,
      routes: [{ id: "r1", host: "", pathPrefix: "/", priority: 0, poolId: "p1" }],
    },
  ],
  pools: [
    {
      id: "p1",
      name: "app",
      policy: "round_robin",
      policyOptions: {},
      healthCheck: {} as never,
      persistence: {} as never,
      backends: [
        { id: "b1", name: "", address: "10.0.0.1", port: 80, weight: 1, state: "enabled", backup: false },
      ],
    },
  ],
};

describe("message codec", () => {
  it("round-trips every direction with the current protocol version", () => {
    const hello = decodeAgentMessage(
      encodeAgentMessage("hello", {
        name: "n",
        softwareVersion: "1",
        protocolVersions: [1],
        capabilities: [],
        appliedVersion: null,
        appliedHash: null,
      }),
    );
    expect(hello.ok && hello.message.type === "hello" && hello.message.v).toBe(PROTOCOL_VERSION);
    const snap = decodeConsoleMessage(
      encodeConsoleMessage("snapshot", { snapshot: snapshotSchema.parse(snapshot) }),
    );
    expect(snap.ok).toBe(true);
    if (snap.ok && snap.message.type === "snapshot") {
      // Defaults fill in health-check and persistence settings the sender left out.
      expect(snap.message.payload.snapshot.pools[0]!.healthCheck.type).toBe("none");
    }
  });

  it("says what is wrong with a bad frame instead of throwing", () => {
    expect(decodeAgentMessage("{not json")).toEqual({ ok: false, error: "frame is not valid JSON" });
    const unknown = decodeAgentMessage(JSON.stringify({ v: 1, type: "teleport", id: "1", payload: {} }));
    expect(unknown.ok).toBe(false);
    const badAck = decodeAgentMessage(
      JSON.stringify({ v: 1, type: "ack", id: "1", payload: { version: "three" } }),
    );
    expect(badAck).toMatchObject({ ok: false, error: expect.stringContaining("payload.version") });
    // A console message is not accepted where an agent message is expected, and vice versa.
    expect(decodeAgentMessage(encodeConsoleMessage("ping", {})).ok).toBe(false);
    expect(decodeConsoleMessage(encodeAgentMessage("heartbeat", { appliedVersion: 1, uptimeMs: 1 })).ok).toBe(
      false,
    );
  });
});

describe("snapshot consistency", () => {
  it("refuses a route to a pool the snapshot does not contain", () => {
    const bad = structuredClone(snapshot);
    bad.listeners[0]!.routes[0]!.poolId = "nope";
    const r = snapshotSchema.safeParse(bad);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/pool nope/);
  });

  it("refuses two listeners on one address and port", () => {
    const bad = structuredClone(snapshot);
    bad.listeners.push({ ...bad.listeners[0]!, id: "l2", name: "web2" });
    expect(snapshotSchema.safeParse(bad).error?.issues[0]?.message).toMatch(/two listeners bind 0.0.0.0:80/);
  });

  it("refuses weights and ports out of range", () => {
    const bad = structuredClone(snapshot);
    bad.pools[0]!.backends[0]!.weight = 999;
    expect(snapshotSchema.safeParse(bad).success).toBe(false);
  });
});
