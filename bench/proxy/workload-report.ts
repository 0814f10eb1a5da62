import type { Machine } from "./machine";
import { f, type Goal, type TargetId } from "./report";
import { median, ratio } from "./stats";
import type { WorkloadId } from "./workload-defs";
import type { WrkResult } from "./wrk";

/** One measured wrk run: one workload on one target in one round. */
export interface RunSample {
  readonly round: number;
  readonly workload: WorkloadId;
  readonly target: TargetId;
  readonly wrk: WrkResult;
  /** Proxy CPU (its process tree) over the run ÷ requests, saturated. */
  readonly cpuUsPerRequest: number;
}

export interface Median {
  readonly rps: number;
  readonly p99Ms: number;
  readonly cpuUsPerRequest: number;
  /** Summed over the rounds. */
  readonly timeouts: number;
  /** connect + read + write errors and non-2xx answers, summed over the rounds. */
  readonly errors: number;
}

export type WorkloadSummary = Record<string, Record<string, Median>>;

/** Medians per workload and target. */
export function summarize(samples: readonly RunSample[]): WorkloadSummary {
  const out: WorkloadSummary = {};
  for (const s of samples) {
    out[s.workload] ??= {};
    if (out[s.workload]![s.target] !== undefined) continue;
    const mine = samples.filter((x) => x.workload === s.workload && x.target === s.target);
    out[s.workload]![s.target] = {
      rps: median(mine.map((x) => x.wrk.rps)),
      p99Ms: median(mine.map((x) => x.wrk.p99Ms)),
      cpuUsPerRequest: median(mine.map((x) => x.cpuUsPerRequest)),
      timeouts: mine.reduce((n, x) => n + x.wrk.errors.timeout, 0),
      errors: mine.reduce(
        (n, x) => n + x.wrk.errors.connect + x.wrk.errors.read + x.wrk.errors.write + x.wrk.errors.non2xx,
        0,
      ),
    };
  }
  return out;
}

/** Ratios a ÷ b per round, as "0.91, 0.88, 0.93". */
function perRound(
  samples: readonly RunSample[],
  w: WorkloadId,
  a: TargetId,
  b: TargetId,
  pick: (r: WrkResult) => number,
): string {
  const of = (t: TargetId) => samples.filter((s) => s.workload === w && s.target === t);
  const bs = of(b);
  return of(a)
    .map((s, i) => (bs[i] ? ratio(pick(s.wrk), pick(bs[i]!.wrk)).toFixed(2) : "–"))
    .join(", ");
}

/** The issue-17 goals, from the medians of this run; a workload or target not run gives no goal. */
export function workloadGoals(sum: WorkloadSummary, samples: readonly RunSample[]): Goal[] {
  const goals: Goal[] = [];
  const rpsGoal = (w: WorkloadId, a: TargetId, b: TargetId, min: number, name: string) => {
    const x = sum[w]?.[a];
    const y = sum[w]?.[b];
    if (!x || !y) return;
    const r = ratio(x.rps, y.rps);
    goals.push({
      name,
      target: `≥ ${min.toFixed(2)}`,
      measured: `${r.toFixed(2)} (per round ${perRound(samples, w, a, b, (s) => s.rps)})`,
      met: r >= min,
    });
  };
  rpsGoal("churn-c32", "agent-http", "nginx", 0.8, "connection churn c32 req/s, agent ÷ nginx");
  const a = sum["keepalive-c1000"]?.["agent-http"];
  const n = sum["keepalive-c1000"]?.nginx;
  if (a && n) {
    const r = ratio(a.p99Ms, n.p99Ms);
    goals.push({
      name: "keep-alive c1000 p99, agent ÷ nginx; agent timeouts and errors",
      target: "≤ 2.00, 0",
      measured: `${r.toFixed(2)} (${a.p99Ms.toFixed(1)} ms vs ${n.p99Ms.toFixed(1)} ms; per round ${perRound(samples, "keepalive-c1000", "agent-http", "nginx", (s) => s.p99Ms)}); timeouts ${a.timeouts}, errors ${a.errors}`,
      met: r <= 2 && a.timeouts === 0 && a.errors === 0,
    });
  }
  rpsGoal("post4k-c64", "agent-http", "nginx", 0.95, "4 KiB POST c64 req/s, agent ÷ nginx");
  rpsGoal("headers20-c64", "agent-http", "nginx", 0.95, "20 extra header lines c64 req/s, agent ÷ nginx");
  rpsGoal("keepalive-c64", "agent-http", "nginx", 0.8, "keep-alive GET c64 req/s, agent ÷ nginx");
  rpsGoal("tcp-c64", "agent-tcp", "haproxy-tcp", 0.85, "L4 c64 req/s, agent tcp ÷ HAProxy tcp");
  return goals;
}

export interface WorkloadReport {
  readonly finishedAt: string;
  readonly command: string;
  readonly machine: Machine;
  readonly workloads: readonly { id: WorkloadId; label: string }[];
  readonly targets: readonly { id: TargetId; label: string }[];
  readonly methods: Record<string, string>;
  readonly summary: WorkloadSummary;
  readonly goals: readonly Goal[];
  readonly notes: readonly string[];
}

export function formatWorkloadReport(r: WorkloadReport): string {
  const out: string[] = [`Proxy workloads — ${r.finishedAt}`, `command: ${r.command}`];
  const m = r.machine;
  out.push(
    `machine: ${m.nproc} cores (${m.cpuModel}), Linux ${m.kernel}, Node ${m.node}, ${m.nginx}, ${m.haproxy}, ${m.wrk}`,
  );
  out.push("");
  out.push(
    "| workload | target | req/s | vs nginx (L4: HAProxy tcp) | p99 | CPU µs/req | timeouts | errors |",
  );
  out.push("|---|---|--:|--:|--:|--:|--:|--:|");
  for (const w of r.workloads) {
    const row = r.summary[w.id];
    if (!row) continue;
    const ref = row.nginx ?? row["haproxy-tcp"];
    for (const t of r.targets) {
      const s = row[t.id];
      if (!s) continue;
      out.push(
        `| ${w.label} | ${t.label} | ${f(s.rps)} | ${ref ? f(ratio(s.rps, ref.rps), 2) : "–"} | ${f(s.p99Ms, 1)} ms | ${f(s.cpuUsPerRequest)} | ${s.timeouts} | ${s.errors} |`,
      );
    }
  }
  out.push("");
  out.push("| goal | target | measured | met |");
  out.push("|---|---|---|---|");
  for (const g of r.goals)
    out.push(
      `| ${g.name} | ${g.target} | ${g.measured} | ${g.met === null ? "reported" : g.met ? "yes" : "NO"} |`,
    );
  out.push("");
  for (const [k, v] of Object.entries(r.methods)) out.push(`${k}: ${v}`);
  for (const n of r.notes) out.push(`note: ${n}`);
  return out.join("\n");
}
