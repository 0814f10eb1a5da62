import { describe, expect, it } from "vitest";
import { clientSubnet } from "../src/dataplane/frontends/dns/client-subnet";
import { canonicalName, DnsNameIndex } from "../src/dataplane/frontends/dns/names";
import type { CompiledRoute } from "../src/dataplane/pools/route-table";

const route = (id: string, host: string) => ({ id, host }) as unknown as CompiledRoute;

describe("dns names", () => {
  const index = new DnsNameIndex([
    route("exact", "www.example.com"),
    route("wild", "*.example.com"),
    route("deeper", "*.cdn.example.com"),
    route("shadowed", "www.example.com"),
  ]);
  const id = (name: string) => (index.lookup(canonicalName(name)) as { id: string } | undefined)?.id;

  it("prefers the exact name, then the longest wildcard; a wildcard does not cover its base", () => {
    expect(id("WWW.example.com.")).toBe("exact");
    expect(id("api.example.com")).toBe("wild");
    expect(id("a.b.cdn.example.com")).toBe("deeper");
    expect(id("example.com")).toBeUndefined();
    expect(id("example.org")).toBeUndefined();
  });

  it("knows where it is the authority (NXDOMAIN) and where not (REFUSED)", () => {
    const exactOnly = new DnsNameIndex([route("r", "www.example.com")]);
    expect(exactOnly.covers("x.www.example.com")).toBe(true);
    expect(exactOnly.covers("example.com")).toBe(false);
    expect(exactOnly.covers("api.example.com")).toBe(false);
    expect(index.covers("example.com")).toBe(true);
  });
});

describe("client subnet", () => {
  it("cuts the resolver's address to /24 or /56, IPv4-mapped addresses as IPv4", () => {
    expect(clientSubnet("198.51.100.77", undefined)?.key).toBe("198.51.100.0/24");
    expect(clientSubnet("::ffff:198.51.100.77", undefined)?.key).toBe("198.51.100.0/24");
    expect(clientSubnet("2001:db8:1234:5678::1", undefined)?.key).toBe("2001:db8:1234:5600:0:0:0:0/56");
  });

  it("prefers the EDNS client subnet, never wider than /24 and never more precise than sent", () => {
    expect(clientSubnet("10.0.0.1", { family: 1, sourcePrefixLength: 32, ip: "203.0.113.9" })?.key).toBe(
      "203.0.113.0/24",
    );
    expect(clientSubnet("10.0.0.1", { family: 1, sourcePrefixLength: 16, ip: "203.0.113.9" })?.key).toBe(
      "203.0.0.0/16",
    );
    expect(clientSubnet("10.0.0.1", { family: 9, sourcePrefixLength: 16, ip: "x" })?.key).toBe("10.0.0.0/24");
  });
});
