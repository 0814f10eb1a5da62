import { run } from "./processes";

export interface WrkResult {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  /** Latency percentiles in milliseconds (from --latency). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: { connect: number; read: number; write: number; timeout: number; non2xx: number };
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "812.00us", "1.23ms", "2.00s" → milliseconds. */
export function parseDurationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`not a wrk duration: ${text}`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** Parses the text wrk 4.x prints for a run with --latency. */
export function parseWrk(out: string): WrkResult {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m|h)/.exec(out);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!total || !rps) throw new Error(`cannot parse wrk output:\n${out}`);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+(?:us|ms|s|m|h))\\s*$`, "m").exec(out);
    if (!m) throw new Error(`wrk output has no ${p}% latency (was --latency given?):\n${out}`);
    return parseDurationMs(m[1]!);
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  return {
    requests: Number(total[1]),
    seconds: parseDurationMs(`${total[2]}${total[3]}`) / 1000,
    rps: Number(rps[1]),
    p50Ms: pct("50"),
    p99Ms: pct("99"),
    errors: {
      connect: Number(sock?.[1] ?? 0),
      read: Number(sock?.[2] ?? 0),
      write: Number(sock?.[3] ?? 0),
      timeout: Number(sock?.[4] ?? 0),
      non2xx: Number(non2xx?.[1] ?? 0),
    },
  };
}

/** `extra`: more wrk arguments (a Lua script, headers, --timeout), before the URL. */
export function wrkArgs(
  url: string,
  connections: number,
  seconds: number,
  threads = 2,
  extra: readonly string[] = [],
): string[] {
  return [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, "--latency", ...extra, url];
}

export async function runWrk(
  url: string,
  connections: number,
  seconds: number,
  extra: readonly string[] = [],
): Promise<WrkResult> {
  const args = wrkArgs(url, connections, seconds, 2, extra);
  const { stdout, stderr, code } = await run("wrk", args, (seconds + 30) * 1000);
  if (code !== 0) throw new Error(`wrk ${args.join(" ")} exited ${code}: ${stderr}${stdout}`);
  return parseWrk(stdout);
}
