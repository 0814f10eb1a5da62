import { describe, expect, it } from "vitest";
import { snapshotSchema } from "../src/snapshot";

const pool = {
  id: "p",
  name: "p",
  policy: "round_robin",
  policyOptions: {},
  healthCheck: {},
  persistence: {},
  backends: [
    { id: "b", name: "", address: "192.0.2.1", port: 80, weight: 1, state: "enabled", backup: false },
  ],
};
const snap = (listeners: unknown[]) => ({
  version: 1,
  hash: "a".repeat(64),
  clusterId: "c",
  createdAt: "t",
  listeners,
  pools: [pool],
});
const route = { id: "r", host: "", pathPrefix: "/", priority: 0, poolId: "p" };

describe("snapshot shapes for dns listeners and redirect routes", () => {
  it("parses a snapshot written before them: routes proxy, backends have no public URL", () => {
    const s = snapshotSchema.parse(
      snap([{ id: "l", name: "l", protocol: "http", bindAddress: "0.0.0.0", port: 80, routes: [route] }]),
    );
    expect(s.listeners[0]!.routes[0]!.action).toBe("proxy");
    expect(s.pools[0]!.backends[0]!.publicBaseUrl).toBeNull();
  });

  it("gives dns listeners their own settings with defaults, never HTTP timeouts", () => {
    const s = snapshotSchema.parse(
      snap([
        {
          id: "d",
          name: "d",
          protocol: "dns",
          bindAddress: "0.0.0.0",
          port: 53,
          settings: { ttlSeconds: 5 },
          routes: [],
        },
      ]),
    );
    const l = s.listeners[0]!;
    expect(l.protocol === "dns" && l.settings).toEqual({
      ttlSeconds: 5,
      maxAnswers: 1,
      transport: "both",
      maxConnections: 1000,
      tcpIdleMs: 10_000,
    });
    const tooLong = snap([
      {
        id: "d",
        name: "d",
        protocol: "dns",
        bindAddress: "0.0.0.0",
        port: 53,
        settings: { ttlSeconds: 301 },
        routes: [],
      },
    ]);
    expect(snapshotSchema.safeParse(tooLong).success).toBe(false);
  });

  it("refuses a redirect route on a non-http listener and a public URL with a query", () => {
    const redirectOnTcp = snap([
      {
        id: "t",
        name: "t",
        protocol: "tcp",
        bindAddress: "0.0.0.0",
        port: 9000,
        routes: [{ ...route, action: "redirect" }],
      },
    ]);
    expect(snapshotSchema.safeParse(redirectOnTcp).error?.issues[0]?.message).toMatch(
      /redirect routes belong to http/,
    );
    const withQuery = snap([]);
    withQuery.pools[0]!.backends[0] = {
      ...pool.backends[0]!,
      publicBaseUrl: "https://m.example.com/?x=1",
    } as never;
    expect(snapshotSchema.safeParse(withQuery).success).toBe(false);
  });
});
