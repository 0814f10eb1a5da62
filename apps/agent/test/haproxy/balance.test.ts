import { POLICIES, POLICY_FACTS, unsupportedReason } from "@fulcrum/protocol";
import { describe, expect, it } from "vitest";
import { HAPROXY_BALANCE } from "../../src/engines/haproxy/balance";
import { serverWeight } from "../../src/engines/haproxy/render-config";
import { findUnsupported } from "../../src/engines/haproxy/validate";
import { be, http, pool, snap } from "./fixtures";

/*
 * The policies HAProxy runs are written in three places that must agree: the
 * protocol's policy table (names, weighted or not), the capability table the
 * agent NACKs by and the console shows (engine-support.ts), and the balance
 * lines this engine renders (balance.ts).
 */
describe.each(POLICIES)("HAProxy and policy %s", (policy) => {
  const snapshot = snap(1, [http("web", 8080, "p")], [pool("p", [be("a", 9001, { weight: 3 })], { policy })]);

  it("is rendered exactly when the capability table says HAProxy supports it", () => {
    const supported = unsupportedReason("haproxy", `policy:${policy}`) === undefined;
    expect(HAPROXY_BALANCE[policy] !== null).toBe(supported);
    expect(findUnsupported(snapshot).some((u) => u.key === `policy:${policy}`)).toBe(!supported);
  });

  it("renders weights only when the policy table says the policy is weighted", () => {
    const p = snapshot.pools[0]!;
    expect(serverWeight(p, p.backends[0]!)).toBe(POLICY_FACTS[policy].weighted ? 3 : 1);
  });
});
