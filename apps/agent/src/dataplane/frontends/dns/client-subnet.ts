import { isIPv4, isIPv6 } from "node:net";

/** Client subnets are hashed at most this wide: a resolver's clients in one /24 (/56) go to one backend. */
export const V4_PREFIX = 24;
export const V6_PREFIX = 56;

export interface ClientSubnet {
  /** "192.0.2.0/24", "2001:db8:1200::/56": the key consistent hashing sees. */
  readonly key: string;
  readonly family: 1 | 2;
  readonly prefix: number;
}

/** The ECS option as dns-packet decodes it. */
export interface EcsOption {
  readonly family?: number;
  readonly sourcePrefixLength?: number;
  readonly ip?: string;
}

/**
 * The subnet an answer is chosen for: the EDNS Client Subnet a resolver sent
 * on its client's behalf (RFC 7871), else the resolver's own address; both
 * cut to /24 or /56, so hashing is stable across a client's neighbours.
 */
export function clientSubnet(
  remoteAddress: string | undefined,
  ecs: EcsOption | undefined,
): ClientSubnet | undefined {
  if (ecs?.ip && (ecs.family === 1 || ecs.family === 2)) {
    const max = ecs.family === 1 ? V4_PREFIX : V6_PREFIX;
    const prefix = Math.min(ecs.sourcePrefixLength ?? 0, max);
    const s = subnetOf(ecs.ip, prefix);
    if (s) return s;
  }
  if (!remoteAddress) return undefined;
  const addr =
    remoteAddress.startsWith("::ffff:") && isIPv4(remoteAddress.slice(7))
      ? remoteAddress.slice(7)
      : remoteAddress;
  return subnetOf(addr, isIPv4(addr) ? V4_PREFIX : V6_PREFIX);
}

function subnetOf(ip: string, prefix: number): ClientSubnet | undefined {
  if (isIPv4(ip)) {
    const bytes = ip.split(".").map(Number);
    const masked = mask(bytes, prefix);
    return { key: `${masked.join(".")}/${prefix}`, family: 1, prefix };
  }
  if (isIPv6(ip)) {
    const words = expandV6(ip);
    if (!words) return undefined;
    const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
    const m = mask(bytes, prefix);
    const out: string[] = [];
    for (let i = 0; i < 16; i += 2) out.push(((m[i]! << 8) | m[i + 1]!).toString(16));
    return { key: `${out.join(":")}/${prefix}`, family: 2, prefix };
  }
  return undefined;
}

function mask(bytes: number[], prefix: number): number[] {
  return bytes.map((b, i) => {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    return bits === 0 ? 0 : b & ((0xff << (8 - bits)) & 0xff);
  });
}

/** "2001:db8::1" → eight 16-bit words; undefined for forms we don't expand (embedded IPv4). */
function expandV6(ip: string): number[] | undefined {
  if (ip.includes(".")) return undefined;
  const [head, tail] = ip.split("::") as [string, string | undefined];
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  const words = [...h, ...new Array<string>(fill).fill("0"), ...t].map((w) => Number.parseInt(w, 16));
  return words.length === 8 && words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff)
    ? words
    : undefined;
}
