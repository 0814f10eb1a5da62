import { isIPv4, isIPv6 } from "node:net";
import type { DnsListenerSettings } from "@fulcrum/protocol";
import * as dnsPacket from "dns-packet";
import type { RequestFacts } from "../../exchange";
import { countPick, pickBackends } from "../../pools/backend-pick";
import type { BackendRuntime } from "../../pools/backend-runtime";
import type { CompiledRoute } from "../../pools/route-table";
import { countRequest, countResponse, type TrafficCounters } from "../../stats/counters";
import { type ClientSubnet, clientSubnet, type EcsOption } from "./client-subnet";
import { canonicalName, type DnsNameIndex } from "./names";

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const OPCODE_QUERY = 0;
/** UDP answers without EDNS fit the classic 512 bytes; with EDNS we accept up to 1232 (DNS flag day 2020). */
const UDP_CLASSIC = 512;
const UDP_EDNS_MAX = 1232;
const ECS_CODE = 8;

export interface DnsAnswerContext {
  readonly names: DnsNameIndex;
  readonly settings: DnsListenerSettings;
  readonly listenerStats: TrafficCounters | undefined;
}

/**
 * The per-listener counters see DNS like HTTP, so the existing graphs work:
 * NOERROR (NODATA too) counts as 2xx, a name we don't serve or a query we
 * don't take as 4xx, SERVFAIL (no backend can serve) as 5xx.
 */
const statusOf = (rcode: number): number =>
  rcode === RCODE.NOERROR ? 200 : rcode === RCODE.SERVFAIL ? 503 : 400;

/** Facts for the pool's policy: the client subnet is the hash key (source_ip_hash, consistent_hash on client_ip). */
class DnsFacts implements RequestFacts {
  readonly method = "";
  readonly path = "";
  constructor(
    readonly host: string,
    readonly clientIp: string,
  ) {}
  header(): undefined {
    return undefined;
  }
  cookie(): undefined {
    return undefined;
  }
}

const ipFamily = (b: BackendRuntime): 4 | 6 | 0 => (isIPv4(b.address) ? 4 : isIPv6(b.address) ? 6 : 0);

/**
 * One query in, the encoded answer out, or undefined: drop it (not a query,
 * or undecodable; a malformed packet gets no answer, so it cannot be used to
 * reflect traffic at someone else). Throws nothing.
 */
export function answerQuery(
  ctx: DnsAnswerContext,
  msg: Buffer,
  remoteAddress: string | undefined,
  transport: "udp" | "tcp",
): { readonly reply: Buffer } | { readonly dropped: string } {
  try {
    return answer(ctx, msg, remoteAddress, transport);
  } catch (e) {
    // A packet that decodes but cannot be answered (e.g. an EDNS option we cannot echo): dropped too.
    return { dropped: `unanswerable: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function answer(
  ctx: DnsAnswerContext,
  msg: Buffer,
  remoteAddress: string | undefined,
  transport: "udp" | "tcp",
): { readonly reply: Buffer } | { readonly dropped: string } {
  let query: dnsPacket.DecodedPacket;
  try {
    query = dnsPacket.decode(msg);
  } catch (e) {
    return { dropped: e instanceof Error ? e.message : "undecodable" };
  }
  // Never answer an answer: two servers would bounce packets forever.
  if (query.flag_qr) return { dropped: "not a query" };
  const l = ctx.listenerStats;
  countRequest(l);
  const flags = query.flags ?? 0;
  const opcode = (flags >> 11) & 0xf;
  const rd = flags & dnsPacket.RECURSION_DESIRED;
  const opt = query.additionals?.find((a): a is dnsPacket.OptAnswer => a.type === "OPT");
  const questions = query.questions ?? [];

  const reply = (
    rcode: number,
    answers: dnsPacket.Answer[] = [],
    route?: CompiledRoute,
    scope?: ClientSubnet,
  ) => {
    countResponse(statusOf(rcode), l, route?.stats, route?.pool.counters);
    const additionals: dnsPacket.Answer[] = [];
    if (opt) {
      // EDNS in, EDNS out (RFC 6891); the client subnet echoed with the scope we used (RFC 7871).
      const ecs = ecsOf(opt);
      additionals.push({
        type: "OPT",
        name: ".",
        udpPayloadSize: UDP_EDNS_MAX,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: 0,
        flag_do: false,
        options:
          ecs?.ip && ecs.family
            ? [
                {
                  code: ECS_CODE,
                  family: ecs.family,
                  sourcePrefixLength: ecs.sourcePrefixLength ?? 0,
                  scopePrefixLength: scope?.prefix ?? 0,
                  ip: ecs.ip,
                },
              ]
            : [],
      } as dnsPacket.OptAnswer);
    }
    const packet: dnsPacket.Packet = {
      type: "response",
      id: query.id ?? 0,
      flags: (opcode << 11) | dnsPacket.AUTHORITATIVE_ANSWER | rd | rcode,
      questions: questions.slice(0, 1),
      answers,
      additionals,
    };
    let buf = dnsPacket.encode(packet);
    const limit =
      transport === "tcp"
        ? 65_535
        : opt
          ? Math.max(UDP_CLASSIC, Math.min(opt.udpPayloadSize, UDP_EDNS_MAX))
          : UDP_CLASSIC;
    if (buf.length > limit) {
      // Too big for this datagram: say so (TC) and let the client retry over TCP.
      buf = dnsPacket.encode({
        ...packet,
        answers: [],
        flags: (packet.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE,
      });
    }
    return { reply: buf };
  };

  if (opcode !== OPCODE_QUERY) return reply(RCODE.NOTIMP);
  const q = questions[0];
  if (questions.length !== 1 || q === undefined) return reply(RCODE.FORMERR);
  // Zone transfers and classes other than IN are a policy refusal (RFC 1035 REFUSED), not an error.
  if ((q.class !== "IN" && q.class !== "ANY") || q.type === "AXFR" || q.type === "IXFR")
    return reply(RCODE.REFUSED);
  const name = canonicalName(q.name);
  const route = ctx.names.lookup(name);
  if (route === undefined) return reply(ctx.names.covers(name) ? RCODE.NXDOMAIN : RCODE.REFUSED);
  countRequest(undefined, route.stats, route.pool.counters);

  const qtype = q.type as string;
  const families: Array<4 | 6> = qtype === "A" ? [4] : qtype === "AAAA" ? [6] : qtype === "ANY" ? [4, 6] : [];
  // A served name, another record type (MX, TXT, ...): NODATA, the name exists.
  if (families.length === 0) return reply(RCODE.NOERROR, [], route);

  const pool = route.pool;
  const subnet = clientSubnet(remoteAddress, opt ? ecsOf(opt) : undefined);
  const facts = new DnsFacts(name, subnet?.key ?? "");
  // The answer depends on the subnet only when the pool hashes or sticks on the client.
  const bySubnet =
    pool.policyName === "source_ip_hash" ||
    pool.policyName === "consistent_hash" ||
    pool.settings.persistence.type === "source_ip";
  const scope = bySubnet ? subnet : undefined;
  const answers: dnsPacket.Answer[] = [];
  let configured = false;
  for (const family of families) {
    // Backends named by hostname have no address to put in an answer: skipped (docs/operations.md).
    if (!pool.backends.some((b) => ipFamily(b) === family)) continue;
    configured = true;
    const chosen = pickBackends(pool, facts, ctx.settings.maxAnswers, (b) => ipFamily(b) !== family);
    for (const b of chosen) {
      countPick(b, 200);
      answers.push({
        type: family === 4 ? "A" : "AAAA",
        name: q.name,
        ttl: ctx.settings.ttlSeconds,
        class: "IN",
        data: b.address,
      });
    }
  }
  // No backend of this family at all is a lasting fact: NODATA, so the A/AAAA pair of a client resolves cleanly.
  if (!configured) return reply(RCODE.NOERROR, [], route);
  // Backends exist but none can serve now (down, draining, disabled): SERVFAIL, never a dead address.
  // Resolvers don't cache it for long and try another of the fleet's agents.
  if (answers.length === 0) return reply(RCODE.SERVFAIL, [], route, scope);
  return reply(RCODE.NOERROR, answers, route, scope);
}

function ecsOf(opt: dnsPacket.OptAnswer): EcsOption | undefined {
  return opt.options?.find((o) => o.code === ECS_CODE) as EcsOption | undefined;
}
