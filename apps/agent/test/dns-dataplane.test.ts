import { createSocket } from "node:dgram";
import { promises as dns } from "node:dns";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as dnsPacket from "dns-packet";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DnsListener } from "../src/dataplane/frontends/dns/dns-listener";
import { NodeEngine } from "../src/engines/builtin/node-engine";
import { silentLogger } from "../src/log";
import { countBy } from "./helpers/backends";
import { queryPacket, tcpFrame, tcpQueries, udpExchange, udpQuery } from "./helpers/dns";
import { freePort } from "./helpers/net";
import { backend, makeSnapshot, type PoolInput } from "./helpers/snapshot";

type Backend = Parameters<typeof makeSnapshot>[2][number];

let engine: NodeEngine;
let port: number;

function dnsListener(
  settings: Record<string, unknown> = {},
  hosts = ["www.example.com", "*.cdn.example.com"],
) {
  return {
    id: "l-dns",
    name: "gslb",
    protocol: "dns" as const,
    bindAddress: "127.0.0.1",
    port,
    settings: { ttlSeconds: 0, ...settings },
    routes: hosts.map((host, i) => ({ id: `r${i}`, host, pathPrefix: "/", priority: 0, poolId: "p1" })),
  };
}

const v4 = (id: string, address: string, over: Partial<Backend> = {}) =>
  backend(id, 80, { address, ...over });

async function apply(
  backends: Backend[],
  opts: {
    version?: number;
    settings?: Record<string, unknown>;
    policy?: PoolInput["policy"];
    pool?: Partial<PoolInput>;
  } = {},
) {
  await engine.apply(
    makeSnapshot(
      opts.version ?? 1,
      [dnsListener(opts.settings)],
      backends,
      opts.policy ?? "round_robin",
      [],
      opts.pool,
    ),
  );
}

const addressesOf = async (n: number, name = "www.example.com", type = "A") => {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await udpQuery(port, name, type);
    expect(r.rcode).toBe("NOERROR");
    out.push(...r.addresses);
  }
  return out;
};

/** An HTTP health endpoint on a loopback address of its own, so DNS answers can tell backends apart. */
async function healthServer(address: string): Promise<{ port: number; status: number; server: Server }> {
  const h = { status: 200 } as { port: number; status: number; server: Server };
  h.server = createServer((_req, res) => {
    res.writeHead(h.status);
    res.end();
  });
  await new Promise<void>((r) => h.server.listen(0, address, r));
  h.port = (h.server.address() as AddressInfo).port;
  return h;
}

beforeEach(async () => {
  engine = new NodeEngine({ log: silentLogger, timeouts: { drainGraceMs: 100 } });
  port = await freePort();
});

afterEach(async () => {
  await engine.stop();
});

describe("dns listener: answers", () => {
  it("round robin rotates the A answers over the pool's backends", async () => {
    await apply([v4("a", "192.0.2.1"), v4("b", "192.0.2.2"), v4("c", "192.0.2.3")]);
    const got = await addressesOf(9);
    expect(countBy(got)).toEqual(
      new Map([
        ["192.0.2.1", 3],
        ["192.0.2.2", 3],
        ["192.0.2.3", 3],
      ]),
    );
    expect(got.slice(0, 3)).not.toEqual([got[0], got[0], got[0]]);
  });

  it("weighted round robin follows the weights", async () => {
    await apply([v4("a", "192.0.2.1", { weight: 3 }), v4("b", "192.0.2.2", { weight: 1 })], {
      policy: "weighted_round_robin",
    });
    const counts = countBy(await addressesOf(40));
    expect(counts.get("192.0.2.1")).toBe(30);
    expect(counts.get("192.0.2.2")).toBe(10);
  });

  it("answers up to maxAnswers distinct addresses, with the configured TTL, authoritatively", async () => {
    await apply([v4("a", "192.0.2.1"), v4("b", "192.0.2.2"), v4("c", "192.0.2.3")], {
      settings: { ttlSeconds: 7, maxAnswers: 2 },
    });
    const r = await udpQuery(port, "WWW.Example.com", "A");
    expect(r.rcode).toBe("NOERROR");
    expect(r.aa).toBe(true);
    expect(new Set(r.addresses).size).toBe(2);
    expect(r.ttls).toEqual([7, 7]);
  });

  it("AAAA answers come from IPv6 backends, A from IPv4; a family with no backend is NODATA", async () => {
    await apply([v4("a", "192.0.2.1"), v4("six", "2001:db8::10")], { settings: { maxAnswers: 4 } });
    expect((await udpQuery(port, "www.example.com", "A")).addresses).toEqual(["192.0.2.1"]);
    expect((await udpQuery(port, "www.example.com", "AAAA")).addresses).toEqual(["2001:db8::10"]);
    await apply([v4("a", "192.0.2.1")], { version: 2 });
    const nodata = await udpQuery(port, "www.example.com", "AAAA");
    expect(nodata.rcode).toBe("NOERROR");
    expect(nodata.addresses).toEqual([]);
    // Another record type of a served name: NODATA too.
    expect((await udpQuery(port, "www.example.com", "MX")).rcode).toBe("NOERROR");
  });

  it("skips backends named by hostname (no address to answer with)", async () => {
    await apply([v4("a", "192.0.2.1"), v4("named", "origin.internal")], { settings: { maxAnswers: 4 } });
    expect((await udpQuery(port, "www.example.com", "A")).addresses).toEqual(["192.0.2.1"]);
  });

  it("wildcards answer any name below their suffix, not the suffix itself", async () => {
    await apply([v4("a", "192.0.2.1")]);
    expect((await udpQuery(port, "img.cdn.example.com")).addresses).toEqual(["192.0.2.1"]);
    expect((await udpQuery(port, "a.b.cdn.example.com")).addresses).toEqual(["192.0.2.1"]);
    expect((await udpQuery(port, "cdn.example.com")).rcode).toBe("NXDOMAIN");
  });

  it("NXDOMAIN below a served name, REFUSED for names it has no authority for and for zone transfers", async () => {
    await apply([v4("a", "192.0.2.1")]);
    const nx = await udpQuery(port, "nope.www.example.com");
    expect(nx.rcode).toBe("NXDOMAIN");
    expect(nx.aa).toBe(true);
    expect((await udpQuery(port, "example.org")).rcode).toBe("REFUSED");
    expect((await udpQuery(port, "www.example.com", "AXFR")).rcode).toBe("REFUSED");
  });

  it("a real resolver (node:dns over UDP) gets the addresses and the TTL", async () => {
    await apply([v4("a", "192.0.2.1")], { settings: { ttlSeconds: 9 } });
    const resolver = new dns.Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([`127.0.0.1:${port}`]);
    expect(await resolver.resolve4("www.example.com", { ttl: true })).toEqual([
      { address: "192.0.2.1", ttl: 9 },
    ]);
    await expect(resolver.resolve4("missing.www.example.com")).rejects.toMatchObject({ code: "ENOTFOUND" });
    await expect(resolver.resolve4("example.org")).rejects.toMatchObject({ code: "EREFUSED" });
  });

  it("answers over TCP with 2-byte length framing, several queries on one connection", async () => {
    await apply([v4("a", "192.0.2.1"), v4("b", "192.0.2.2")]);
    const { replies } = await tcpQueries(port, [
      tcpFrame(queryPacket("www.example.com", "A")),
      tcpFrame(queryPacket("www.example.com", "A")),
    ]);
    expect(replies.map((r) => r.rcode)).toEqual(["NOERROR", "NOERROR"]);
    expect(new Set(replies.flatMap((r) => r.addresses))).toEqual(new Set(["192.0.2.1", "192.0.2.2"]));
  });

  it("consistent by client subnet: one EDNS client subnet always gets the same backend", async () => {
    const many = ["1", "2", "3", "4", "5"].map((n) => v4(n, `192.0.2.${n}`));
    await apply(many, { policy: "consistent_hash" });
    const ask = async (ip: string) => {
      const ecs = { code: 8, family: 1, sourcePrefixLength: 24, scopePrefixLength: 0, ip };
      const opt = {
        type: "OPT",
        name: ".",
        udpPayloadSize: 1232,
        flags: 0,
        options: [ecs],
      } as unknown as dnsPacket.Answer;
      const r = await udpQuery(port, "www.example.com", "A", { additionals: [opt] });
      return r.addresses[0];
    };
    const first = await ask("198.51.100.7");
    for (let i = 0; i < 5; i++) expect(await ask(`198.51.100.${10 + i}`)).toBe(first);
    const seen = new Set<string | undefined>();
    for (let i = 0; i < 30; i++) seen.add(await ask(`10.${i}.0.1`));
    expect(seen.size).toBeGreaterThan(1);
  });
});

describe("dns listener: health, drain and failures", () => {
  it("a backend whose health check fails disappears from answers; all down is SERVFAIL", async () => {
    const [h1, h2] = await Promise.all([healthServer("127.0.0.11"), healthServer("127.0.0.12")]);
    try {
      const healthCheck = {
        type: "http" as const,
        intervalMs: 100,
        timeoutMs: 500,
        rise: 1,
        fall: 1,
        path: "/",
      };
      await apply(
        [backend("a", h1.port, { address: "127.0.0.11" }), backend("b", h2.port, { address: "127.0.0.12" })],
        {
          pool: { healthCheck },
        },
      );
      await waitFor(async () => new Set(await addressesOf(4)).size === 2);
      h2.status = 500;
      await waitFor(async () => !(await addressesOf(4)).includes("127.0.0.12"));
      expect(new Set(await addressesOf(6))).toEqual(new Set(["127.0.0.11"]));
      h1.status = 500;
      await waitFor(async () => (await udpQuery(port, "www.example.com")).rcode === "SERVFAIL");
      h1.status = 200;
      await waitFor(async () => (await udpQuery(port, "www.example.com")).rcode === "NOERROR");
    } finally {
      h1.server.close();
      h2.server.close();
    }
  });

  it("draining removes a backend from new answers; the live counters count answers per backend", async () => {
    await apply([v4("a", "192.0.2.1"), v4("b", "192.0.2.2")]);
    await addressesOf(4);
    expect(engine.stats().backends["192.0.2.1:80"]!.attempts).toBe(2);
    expect(engine.stats().backends["192.0.2.2:80"]!.attempts).toBe(2);
    expect(engine.stats().listeners["l-dns"]!.requests).toBe(4);
    const bindId = (engine.listenerAt("127.0.0.1", port) as DnsListener).bindId;
    await apply([v4("a", "192.0.2.1"), v4("b", "192.0.2.2", { state: "draining" })], { version: 2 });
    expect(new Set(await addressesOf(6))).toEqual(new Set(["192.0.2.1"]));
    // Hitless: the same sockets kept serving across the change.
    expect((engine.listenerAt("127.0.0.1", port) as DnsListener).bindId).toBe(bindId);
  });

  it("drops malformed packets without harm, over UDP and TCP, and keeps answering", async () => {
    await apply([v4("a", "192.0.2.1")]);
    const listener = engine.listenerAt("127.0.0.1", port) as DnsListener;
    expect(await udpExchange(port, Buffer.from("not a dns packet at all"), 300)).toBeUndefined();
    expect(await udpExchange(port, Buffer.from([0x12, 0x34, 0x01]), 300)).toBeUndefined();
    // A response sent to us is never answered (no reflection loops).
    const response = dnsPacket.encode({ ...queryPacket("www.example.com", "A"), type: "response" });
    expect(await udpExchange(port, response, 300)).toBeUndefined();
    expect(listener.dropped).toBe(3);
    // Decodes, but carries an EDNS client subnet of an unknown address family: answered or dropped, never a crash.
    const ecs = { code: 8, family: 7, sourcePrefixLength: 24, scopePrefixLength: 0, ip: "10.0.0.0" };
    const opt = { type: "OPT", name: ".", udpPayloadSize: 1232, flags: 0, options: [ecs] };
    await udpExchange(
      port,
      dnsPacket.encode(queryPacket("www.example.com", "A", { additionals: [opt as never] })),
      300,
    );
    const garbage = Buffer.concat([Buffer.from([0, 5]), Buffer.from("xxxxx")]);
    const tcp = await tcpQueries(port, [garbage, tcpFrame(queryPacket("www.example.com", "A"))]);
    expect(tcp.closed).toBe(true);
    expect(tcp.replies).toEqual([]);
    expect((await udpQuery(port, "www.example.com")).addresses).toEqual(["192.0.2.1"]);
    expect(
      (await tcpQueries(port, [tcpFrame(queryPacket("www.example.com", "A"))])).replies[0]!.addresses,
    ).toEqual(["192.0.2.1"]);
  });

  it("a snapshot whose DNS port cannot be bound is refused as a whole; the old one keeps serving", async () => {
    await apply([v4("a", "192.0.2.1")]);
    const taken = createSocket("udp4");
    taken.on("error", () => {});
    const otherPort = await freePort();
    await new Promise<void>((r) => taken.bind(otherPort, "127.0.0.1", r));
    try {
      const second = { ...dnsListener(), id: "l-dns-2", name: "second", port: otherPort };
      await expect(
        engine.apply(makeSnapshot(2, [dnsListener(), second], [v4("b", "192.0.2.2")], "round_robin")),
      ).rejects.toThrow(/cannot bind/);
      expect((await udpQuery(port, "www.example.com")).addresses).toEqual(["192.0.2.1"]);
    } finally {
      taken.close();
    }
  });

  it("UDP only: no TCP socket is opened; switching transport re-creates the listener", async () => {
    await apply([v4("a", "192.0.2.1")], { settings: { transport: "udp" } });
    await expect(tcpQueries(port, [tcpFrame(queryPacket("www.example.com", "A"))])).rejects.toMatchObject({
      code: "ECONNREFUSED",
    });
    await apply([v4("a", "192.0.2.1")], { version: 2, settings: { transport: "both" } });
    const { replies } = await tcpQueries(port, [tcpFrame(queryPacket("www.example.com", "A"))]);
    expect(replies[0]!.addresses).toEqual(["192.0.2.1"]);
  });
});

async function waitFor(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("condition not reached in time");
}
