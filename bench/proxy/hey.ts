import { run } from "./processes";

export interface HeyResult {
  readonly seconds: number;
  readonly rps: number;
  /** Responses per status code. */
  readonly statuses: Record<string, number>;
  readonly ok: number;
  readonly errors: number;
}

/** Parses hey's default summary output. */
export function parseHey(out: string): HeyResult {
  const total = /Total:\s+([\d.]+) secs/.exec(out);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!total || !rps) throw new Error(`cannot parse hey output:\n${out}`);
  const statuses: Record<string, number> = {};
  const dist = /Status code distribution:\n((?:\s+\[\d+\]\s+\d+ responses\n?)+)/.exec(out);
  for (const m of dist?.[1]?.matchAll(/\[(\d+)\]\s+(\d+) responses/g) ?? []) statuses[m[1]!] = Number(m[2]);
  let errors = 0;
  const errs = /Error distribution:\n((?:\s+\[\d+\]\s+.*\n?)+)/.exec(out);
  for (const m of errs?.[1]?.matchAll(/\[(\d+)\]/g) ?? []) errors += Number(m[1]);
  const ok = Object.entries(statuses)
    .filter(([code]) => code.startsWith("2"))
    .reduce((n, [, c]) => n + c, 0);
  return { seconds: Number(total[1]), rps: Number(rps[1]), statuses, ok, errors };
}

/** hey's -q is per worker: `workers` × `perWorker` = the total fixed rate. */
export function heyArgs(
  url: string,
  rate: number,
  seconds: number,
  workers = 50,
  extra: readonly string[] = [],
): string[] {
  return [
    ...extra,
    "-z",
    `${seconds}s`,
    "-c",
    String(workers),
    "-q",
    String(rate / workers),
    "-disable-compression",
    url,
  ];
}

/** `extra`: more hey flags (e.g. -disable-keepalive). */
export async function runHey(
  url: string,
  rate: number,
  seconds: number,
  extra: readonly string[] = [],
): Promise<HeyResult> {
  const args = heyArgs(url, rate, seconds, 50, extra);
  const { stdout, stderr, code } = await run("hey", args, (seconds + 30) * 1000);
  if (code !== 0) throw new Error(`hey ${args.join(" ")} exited ${code}: ${stderr}${stdout}`);
  return parseHey(stdout);
}
