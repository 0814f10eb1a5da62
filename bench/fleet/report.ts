import type { IdleResult } from "./idle.ts";
import type { IngestResult } from "./ingest.ts";
import type { Machine } from "./machine.ts";
import type { PushResult } from "./push.ts";
import type { Summary } from "./stats.ts";
import type { StormResult } from "./storm.ts";

export interface FleetReport {
  startedAt: string;
  command: string;
  database: string;
  machine: Machine;
  push: PushResult[];
  idle: IdleResult | null;
  storm: StormResult[];
  ingest?: IngestResult | null;
  goals: Goal[];
}

export interface Goal {
  goal: string;
  measured: string;
  met: boolean;
}

const ms = (v: number) =>
  Number.isFinite(v) ? (v >= 100 ? `${Math.round(v)} ms` : `${v.toFixed(1)} ms`) : "–";
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" | ")} |`;
  const sep = `| ${widths.map((w, i) => (i === 0 ? "-".repeat(w) : `${"-".repeat(w - 1)}:`)).join(" | ")} |`;
  return [line(head), sep, ...rows.map(line)].join("\n");
}

/** Per 100 ms for the first 5 s, then per second (the tail of a jittered storm is long and thin). */
function series(per100: number[]): string {
  const head = per100.slice(0, 50).join(" ");
  const tail: number[] = [];
  for (let i = 50; i < per100.length; i += 10) tail.push(per100.slice(i, i + 10).reduce((a, b) => a + b, 0));
  return tail.length ? `${head} | then per second: ${tail.join(" ")}` : head;
}

/** Push-latency goals: p99 of the per-change time until the last agent has the snapshot. */
export function pushGoals(push: PushResult[]): Goal[] {
  const goals: Goal[] = [];
  for (const [agents, limit] of [
    [100, 100],
    [1000, 1000],
  ] as const) {
    const r = push.find((p) => p.agents === agents);
    if (!r) continue;
    goals.push({
      goal: `push p99 ≤ ${limit >= 1000 ? "1 s" : `${limit} ms`} at ${agents.toLocaleString("en")} agents (last agent received)`,
      measured: `${ms(r.lastReceiptMs.p99)} (p50 ${ms(r.lastReceiptMs.p50)}, ${r.changes} changes)`,
      met: r.lastReceiptMs.p99 <= limit,
    });
    goals.push({
      goal: `… every ACK recorded in the database`,
      measured: `${ms(r.acksRecordedMs.p99)} (p50 ${ms(r.acksRecordedMs.p50)})`,
      met: r.acksRecordedMs.p99 <= limit,
    });
  }
  return goals;
}

/** Stats ingest goal: the console ingesting 1,000 agents × 20 backends at 1 Hz in ≤ 1 core. */
export function ingestGoals(ingest: IngestResult | null): Goal[] {
  const r = ingest?.runs.find((x) => x.agents === 1000);
  if (!r) return [];
  return [
    {
      goal: `stats ingest of 1,000 agents × ${r.backends} backends at 1 Hz ≤ 1 core`,
      measured: `${r.consoleCpuPct.toFixed(0)} % of one core`,
      met: r.consoleCpuPct <= 100,
    },
  ];
}

export function renderReport(r: FleetReport): string {
  const out: string[] = [];
  out.push(
    `Machine: ${r.machine.cores} cores (${r.machine.cpuModel}), ${r.machine.memoryGiB} GiB, Linux ${r.machine.kernel}, Node ${r.machine.node}; database ${r.database}`,
  );
  if (r.push.length) {
    out.push("", "Push latency (from the tRPC call's start; p50 / p99 / max over the changes):", "");
    out.push(
      table(
        [
          "agents",
          "changes",
          "per agent p50",
          "per agent p99",
          "last agent p50",
          "last agent p99",
          "last agent max",
          "ACKs recorded p50",
          "ACKs recorded p99",
          "ACKs recorded max",
          "tRPC call p50",
        ],
        r.push.map((p) => [
          p.agents.toLocaleString("en"),
          String(p.changes),
          ms(p.perAgentReceiptMs.p50),
          ms(p.perAgentReceiptMs.p99),
          ms(p.lastReceiptMs.p50),
          ms(p.lastReceiptMs.p99),
          ms(p.lastReceiptMs.max),
          ms(p.acksRecordedMs.p50),
          ms(p.acksRecordedMs.p99),
          ms(p.acksRecordedMs.max),
          ms(p.callMs.p50),
        ]),
      ),
    );
  }
  if (r.idle) {
    const i = r.idle;
    out.push(
      "",
      `Console with ${i.agents.toLocaleString("en")} idle agents (heartbeat every 5 s) over ${i.seconds.toFixed(0)} s:`,
      "",
    );
    out.push(
      table(
        ["", "console CPU (% of one core)", "RSS", "heap used (after GC)", "simulated agents' CPU"],
        [
          ["no agents", "–", mib(i.before.rss), mib(i.before.heapUsedAfterGc), "–"],
          [
            `${i.agents.toLocaleString("en")} agents idle`,
            `${i.consoleCpuPct.toFixed(1)} %`,
            `${mib(i.idle.rss)} (+${kb(i.perAgentBytes.rss)}/agent)`,
            `${mib(i.idle.heapUsedAfterGc)} (+${kb(i.perAgentBytes.heap)}/agent)`,
            `${i.agentsCpuPct.toFixed(1)} %`,
          ],
        ],
      ),
    );
  }
  if (r.storm.length) {
    out.push(
      "",
      "Reconnect storm (console SIGKILLed and restarted on the same port; times from the new console listening):",
      "",
    );
    out.push(
      table(
        [
          "retry policy",
          "agents",
          "restart",
          "peak attempts /100 ms",
          "peak upgrades /100 ms",
          "peak rate",
          "half back",
          "all back",
          "attempts (refused)",
          "welcome after upgrade p99",
          "console CPU",
          "snapshots after restart",
        ],
        r.storm.map((s) => [
          s.variant,
          s.agents.toLocaleString("en"),
          ms(s.restartMs),
          String(s.peakAttemptsPer100ms),
          String(s.peakPer100ms),
          `${s.peakPerSecond.toLocaleString("en")}/s`,
          ms(s.halfReconnectedMs),
          ms(s.allReconnectedMs),
          `${s.attempts} (${s.refusedAttempts})`,
          ms(s.welcomeAfterOpenMs.p99),
          `${s.consoleCpuPct.toFixed(0)} %`,
          String(s.snapshotsAfterRestart),
        ]),
      ),
    );
    for (const s of r.storm) {
      out.push("", `${s.variant}:`);
      out.push(`  connection attempts per 100 ms from the kill: ${series(s.attemptsPer100msFromKill)}`);
      out.push(
        `  upgrades accepted per 100 ms from the new console listening: ${series(s.arrivalsPer100ms)}`,
      );
    }
  }
  if (r.ingest?.runs.length) {
    out.push(
      "",
      "Stats ingest (every agent sends one `stats` point per second: 1 listener, 1 route, 1 pool, N backends; sends spread over the second):",
      "",
    );
    out.push(
      table(
        [
          "agents × backends",
          "seconds",
          "messages/s",
          "message size",
          "console CPU (% of one core)",
          "RSS",
          "heap used (after GC)",
          "simulated agents' CPU",
          "rps sent / graphed",
        ],
        r.ingest.runs.map((x) => [
          `${x.agents.toLocaleString("en")} × ${x.backends}`,
          x.seconds.toFixed(0),
          x.messagesPerSec.toFixed(0),
          kb(x.meanMessageBytes),
          `${x.consoleCpuPct.toFixed(0)} %`,
          mib(x.memory.rss),
          mib(x.memory.heapUsedAfterGc),
          `${x.agentsCpuPct.toFixed(0)} %`,
          `${x.sentRps.toLocaleString("en")} / ${Math.round(x.graphedRps).toLocaleString("en")}`,
        ]),
      ),
    );
  }
  if (r.ingest?.latency) {
    const l = r.ingest.latency;
    out.push(
      "",
      `Request → live graph (metrics.live over tRPC SSE, scope cluster; ${l.samples} samples, p50 / p99 / max):`,
      "",
    );
    out.push(
      table(
        ["", "p50", "p99", "max"],
        [
          ["request → SSE event with rps > 0", l.requestToGraphMs],
          ["… request → agent's 1 Hz tick sends the point", l.tickWaitMs],
          ["… tick → SSE event (console completes the second)", l.tickToEventMs],
        ].map(([name, s]) => [
          name as string,
          ms((s as Summary).p50),
          ms((s as Summary).p99),
          ms((s as Summary).max),
        ]),
      ),
    );
  }
  if (r.goals.length) {
    out.push("", "Goals:", "");
    out.push(
      table(
        ["goal", "measured", "met"],
        r.goals.map((g) => [g.goal, g.measured, g.met ? "yes" : "**no**"]),
      ),
    );
  }
  return out.join("\n");
}
