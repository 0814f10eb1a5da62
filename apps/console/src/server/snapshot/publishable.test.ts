import { describe, expect, it } from "vitest";
import { SnapshotInvalidError } from "../errors";
import { compileSnapshotBody, type TopologyRows } from "./compile";
import { parseStoredSnapshot } from "./publishable";

const pool = (over: Partial<TopologyRows["pools"][number]> = {}): TopologyRows["pools"][number] => ({
  id: "p1",
  name: "web",
  policy: "round_robin",
  policyOptions: {},
  healthCheck: {},
  persistence: {},
  backends: [],
  ...over,
});

function refusal(rows: TopologyRows): SnapshotInvalidError {
  try {
    compileSnapshotBody(rows);
  } catch (err) {
    if (err instanceof SnapshotInvalidError) return err;
    throw err;
  }
  throw new Error("expected compileSnapshotBody to refuse");
}

/** Stored rows agents would refuse: the error names the object and field in words, on one printable line. */
describe("snapshot gate messages", () => {
  it("names a backend by pool and name, and escapes the bad value", () => {
    const backend = {
      id: "b1",
      name: "alpha",
      address: "10.0.0.1\r\nx",
      port: 80,
      weight: 1,
      state: "enabled" as const,
      backup: false,
    };
    const err = refusal({ listeners: [], pools: [pool({ backends: [backend] })] });
    expect(err.code).toBe("SNAPSHOT_INVALID");
    expect(err.message).toContain('pool web, backend alpha: address "10.0.0.1\\u000d\\u000ax" is not valid');
    expect(err.message).not.toMatch(/[\r\n]/);
    expect(err.fieldErrors).toHaveProperty("address");
  });

  it("names a listener's route by host and path prefix", () => {
    const err = refusal({
      listeners: [
        {
          id: "l1",
          name: "front",
          protocol: "http",
          bindAddress: "0.0.0.0",
          port: 80,
          routes: [{ id: "r1", host: "bad host", pathPrefix: "/api", priority: 0, poolId: "p1" }],
        },
      ],
      pools: [pool()],
    });
    expect(err.message).toContain('listener front, route bad host/api: host "bad host" is not valid');
  });

  it("counts further problems and names each in fieldErrors", () => {
    const err = refusal({
      listeners: [],
      pools: [
        pool({
          healthCheck: { type: "http", path: "/a b" },
          persistence: { type: "cookie", cookieName: "my cookie" },
        }),
      ],
    });
    expect(err.message).toMatch(
      /^pool web: health-check path "\/a b" is not valid: .* Also not valid: pool web: sticky-session cookie name "my cookie"\./,
    );
    expect(Object.keys(err.fieldErrors ?? {}).sort()).toEqual(["healthCheck.path", "persistence.cookieName"]);
  });

  it("parses a stored version, or says which version and field cannot be restored", () => {
    expect(() => parseStoredSnapshot({ nonsense: true }, "v3 cannot be restored")).toThrow(
      /^v3 cannot be restored: /,
    );
  });
});
