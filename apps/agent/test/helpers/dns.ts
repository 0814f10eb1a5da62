import { createSocket } from "node:dgram";
import { connect } from "node:net";
import * as dnsPacket from "dns-packet";

export interface DnsReply {
  rcode: string;
  /** A/AAAA data in answer order. */
  addresses: string[];
  ttls: number[];
  aa: boolean;
  tc: boolean;
  packet: dnsPacket.DecodedPacket & { rcode?: string };
}

let nextId = 1;

function toReply(p: dnsPacket.DecodedPacket): DnsReply {
  const answers = (p.answers ?? []).filter(
    (a) => a.type === "A" || a.type === "AAAA",
  ) as dnsPacket.StringAnswer[];
  return {
    rcode: (p as { rcode?: string }).rcode ?? "?",
    addresses: answers.map((a) => a.data),
    ttls: answers.map((a) => a.ttl ?? -1),
    aa: p.flag_aa,
    tc: p.flag_tc,
    packet: p,
  };
}

export function queryPacket(
  name: string,
  type: string,
  extra: Partial<dnsPacket.Packet> = {},
): dnsPacket.Packet {
  return {
    type: "query",
    id: nextId++ & 0xffff,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: type as dnsPacket.RecordType, name, class: "IN" }],
    ...extra,
  };
}

/** Sends raw bytes over UDP to 127.0.0.1; resolves with the reply, or undefined after `waitMs` without one. */
export function udpExchange(port: number, msg: Buffer, waitMs = 1000): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const s = createSocket("udp4");
    s.on("error", () => {});
    const timer = setTimeout(() => {
      s.close();
      resolve(undefined);
    }, waitMs);
    s.once("message", (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m);
    });
    s.send(msg, port, "127.0.0.1");
  });
}

export async function udpQuery(
  port: number,
  name: string,
  type = "A",
  extra: Partial<dnsPacket.Packet> = {},
) {
  const raw = await udpExchange(port, dnsPacket.encode(queryPacket(name, type, extra)));
  if (!raw) throw new Error(`no UDP answer for ${name} ${type}`);
  return toReply(dnsPacket.decode(raw));
}

/** Queries over one TCP connection (RFC 1035 framing via streamEncode/streamDecode), in order. */
export function tcpQueries(port: number, msgs: Buffer[]): Promise<{ replies: DnsReply[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const replies: DnsReply[] = [];
    const sock = connect(port, "127.0.0.1");
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ replies, closed: false });
    }, 2000);
    sock.on("error", reject);
    sock.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        replies.push(toReply(dnsPacket.streamDecode(buf.subarray(0, 2 + len)) as dnsPacket.DecodedPacket));
        buf = buf.subarray(2 + len);
      }
      if (replies.length === msgs.length) {
        clearTimeout(timer);
        sock.end();
        resolve({ replies, closed: false });
      }
    });
    sock.on("close", () => {
      clearTimeout(timer);
      resolve({ replies, closed: true });
    });
    for (const m of msgs) sock.write(m);
  });
}

export const tcpFrame = (p: dnsPacket.Packet) => dnsPacket.streamEncode(p);
