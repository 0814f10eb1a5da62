// Where a proxied request's CPU goes: user space against the kernel, for the
// agent's http listener and nginx as a proxy (with --l4: the agent's tcp
// listener and HAProxy in tcp mode), under the same saturating load. With
// --against REV the agent as committed at REV runs too, for an A/B in one run.
// Shorter than the full harness (~1 min for 4 rounds), meant for comparing
// hot-path changes: the user-space share is what the agent's own code moves.
//
//   pnpm --filter @fulcrum/bench proxy:cpu [--rounds N] [--seconds S] [--l4] [--against REV]
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { haproxyConf, nginxProxyConf } from "./configs";
import {
  cpuSplitSeconds,
  freePort,
  installExitHandlers,
  killAll,
  processTree,
  type Started,
} from "./processes";
import { median } from "./stats";
import {
  extractAgentRevision,
  ready,
  startAgent,
  startHaproxy,
  startNginx,
  startNginxBackends,
} from "./targets";
import { runWrk } from "./wrk";

const USAGE =
  "usage: pnpm --filter @fulcrum/bench proxy:cpu [--rounds N] [--seconds S] [--l4] [--against REV]";

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i === -1) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isFinite(n) || n < 1) throw new Error(`${name} needs a number ≥ 1\n${USAGE}`);
  return n;
}

interface Sample {
  rps: number;
  userUs: number;
  systemUs: number;
}

async function measure(p: Started, port: number, seconds: number): Promise<Sample> {
  const url = `http://127.0.0.1:${port}/`;
  await runWrk(url, 64, 2);
  const pids = processTree(p.child.pid!);
  const before = cpuSplitSeconds(pids);
  const r = await runWrk(url, 64, seconds);
  const after = cpuSplitSeconds(pids);
  return {
    rps: r.rps,
    userUs: ((after.user - before.user) * 1e6) / r.requests,
    systemUs: ((after.system - before.system) * 1e6) / r.requests,
  };
}

async function main(): Promise<void> {
  const rounds = option("--rounds", 4);
  const seconds = option("--seconds", 6);
  installExitHandlers();
  const dir = mkdtempSync(join(tmpdir(), "fulcrum-cpu-split-"));
  const [b1, b2, pAgent, pNginx, pOld] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const backends = [b1!, b2!];
  await startNginxBackends(dir, backends);
  const l4 = process.argv.includes("--l4");
  const agent = startAgent(
    "agent",
    join(dir, "agent"),
    [{ protocol: l4 ? "tcp" : "http", port: pAgent! }],
    backends,
  );
  const other = l4
    ? startHaproxy("haproxy-tcp", join(dir, "ha"), haproxyConf("tcp", pNginx!, backends))
    : startNginx("nginx-proxy", join(dir, "np"), nginxProxyConf(join(dir, "np"), pNginx!, backends));
  await Promise.all([ready(agent, pAgent!), ready(other, pNginx!)]);

  const kind = l4 ? "tcp" : "http";
  const targets = [
    { name: `Fulcrum agent, ${kind} listener`, p: agent, port: pAgent! },
    { name: l4 ? "HAProxy tcp, nbthread 1" : "nginx proxy, 1 worker", p: other, port: pNginx! },
  ];
  const against = process.argv.indexOf("--against");
  if (against !== -1) {
    const rev = process.argv[against + 1];
    if (rev === undefined) throw new Error(`--against needs a git revision\n${USAGE}`);
    const { commit, bin } = extractAgentRevision(rev, join(dir, "rev"));
    const old = startAgent(
      "agent-rev",
      join(dir, "agent-rev"),
      [{ protocol: kind, port: pOld! }],
      backends,
      bin,
    );
    await ready(old, pOld!);
    targets.push({ name: `Fulcrum agent at ${commit}, ${kind} listener`, p: old, port: pOld! });
  }
  const samples = new Map<string, Sample[]>(targets.map((t) => [t.name, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const t of round % 2 === 1 ? targets : [...targets].reverse()) {
      const s = await measure(t.p, t.port, seconds);
      samples.get(t.name)!.push(s);
      process.stderr.write(
        `round ${round}/${rounds} ${t.name}: ${s.rps.toFixed(0)} req/s, user ${s.userUs.toFixed(1)} µs, system ${s.systemUs.toFixed(1)} µs per request\n`,
      );
    }
  }
  console.log(`wrk -t2 -c64 -d${seconds}s after 2 s of warm-up, ${rounds} interleaved rounds, medians:\n`);
  console.log("| target | req/s c64 | user µs/req | system µs/req | total µs/req |");
  console.log("|---|--:|--:|--:|--:|");
  for (const [name, xs] of samples) {
    const m = (f: (s: Sample) => number) => median(xs.map(f));
    console.log(
      `| ${name} | ${m((s) => s.rps).toFixed(0)} | ${m((s) => s.userUs).toFixed(1)} | ${m((s) => s.systemUs).toFixed(1)} | ${m((s) => s.userUs + s.systemUs).toFixed(1)} |`,
    );
  }
}

main()
  .catch((e) => {
    process.stderr.write(`cpu-split: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  })
  .finally(() => killAll());
