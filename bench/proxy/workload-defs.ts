import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** What a workload loads: L7 targets (nginx, HAProxy http, agent http) or L4 ones (HAProxy tcp, agent tcp). */
export type Layer = "L7" | "L4";

export type WorkloadId =
  | "keepalive-c64"
  | "tcp-c64"
  | "churn-c32"
  | "keepalive-c1000"
  | "post4k-c64"
  | "headers20-c64";

export interface Workload {
  readonly id: WorkloadId;
  readonly label: string;
  readonly layer: Layer;
  readonly connections: number;
  /** A wrk Lua script (written to the work dir), or none for a plain GET. */
  readonly lua?: string;
  /** More wrk arguments, before the script. */
  readonly args?: readonly string[];
}

/** 4 KiB, the body of the POST workload. */
export const POST_BODY_BYTES = 4096;

/** 20 header lines of ~70 bytes: with the request line and Host, a head of ~1.5 KiB. */
export const EXTRA_HEADER_LINES = 20;

const luaString = (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

function headersLua(): string {
  const lines: string[] = [];
  for (let i = 0; i < EXTRA_HEADER_LINES; i++) {
    const n = String(i + 1).padStart(2, "0");
    lines.push(
      `wrk.headers[${luaString(`X-Bench-Header-${n}`)}] = ${luaString(`value-${n}-${"abcdefghij".repeat(5)}`)}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

export const WORKLOADS: readonly Workload[] = [
  { id: "keepalive-c64", label: "keep-alive GET, c64", layer: "L7", connections: 64 },
  { id: "tcp-c64", label: "keep-alive GET through L4, c64", layer: "L4", connections: 64 },
  {
    id: "churn-c32",
    label: "connection churn (Connection: close), c32",
    layer: "L7",
    connections: 32,
    args: ["-H", "Connection: close"],
  },
  {
    id: "keepalive-c1000",
    label: "keep-alive GET, c1000",
    layer: "L7",
    connections: 1000,
    // wrk's default, stated: a response slower than 2 s counts as a timeout.
    args: ["--timeout", "2s"],
  },
  {
    id: "post4k-c64",
    label: "4 KiB POST, c64",
    layer: "L7",
    connections: 64,
    lua: `wrk.method = "POST"\nwrk.body = string.rep("x", ${POST_BODY_BYTES})\nwrk.headers["Content-Type"] = "application/octet-stream"\n`,
  },
  {
    id: "headers20-c64",
    label: `GET with ${EXTRA_HEADER_LINES} extra header lines (~1.5 KiB head), c64`,
    layer: "L7",
    connections: 64,
    lua: headersLua(),
  },
];

/** wrk's arguments for a workload (its Lua script written into `dir`). */
export function workloadArgs(w: Workload, dir: string): string[] {
  const args = [...(w.args ?? [])];
  if (w.lua !== undefined) {
    const file = join(dir, `${w.id}.lua`);
    writeFileSync(file, w.lua);
    args.push("-s", file);
  }
  return args;
}
