export interface Options {
  /** Seconds per measured wrk run. */
  duration: number;
  /** Seconds of wrk before each measured run, discarded. */
  warmup: number;
  rounds: number;
  /** Fixed request rate for the CPU-per-request figure. */
  rate: number;
  /** Seconds of the fixed-rate run. */
  rateDuration: number;
  /** Idle keep-alive connections held on one agent; 0 skips that part. */
  idleConnections: number;
  quick: boolean;
  /** Benchmark the agent at this git revision instead of the working tree. */
  agentRev: string | undefined;
  /** Where the JSON goes (default bench/results/<date>.json). */
  out: string | undefined;
}

export const USAGE = `usage: pnpm --filter @fulcrum/bench proxy [--quick] [--rounds N] [--duration S] [--warmup S]
                                      [--rate R] [--rate-duration S] [--idle N] [--out FILE] [--agent-rev REV]
  --quick           ~1.5 minutes: 2 rounds of 3 s runs, 1 s warm-up (default: 3 rounds of 8 s, 3 s warm-up)
  --rounds N        interleaved rounds; the median per target is reported
  --duration S      seconds per measured wrk run
  --warmup S        seconds of discarded wrk load before each measured run
  --rate R          fixed rate (req/s) for CPU per request (default 5000)
  --rate-duration S seconds of the fixed-rate run
  --idle N          idle keep-alive connections held on one agent (default 36000; 0 skips)
  --out FILE        JSON results file (default bench/results/<date>.json)
  --agent-rev REV   benchmark the agent as committed at REV (git archive) instead of the working tree`;

export function parseOptions(argv: readonly string[]): Options {
  const quick = argv.includes("--quick");
  const o: Options = {
    duration: quick ? 3 : 8,
    warmup: quick ? 1 : 3,
    rounds: quick ? 2 : 3,
    rate: 5000,
    rateDuration: quick ? 3 : 8,
    idleConnections: 36_000,
    quick,
    out: undefined,
    agentRev: undefined,
  };
  const num = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`${flag} needs a number ≥ ${min}\n${USAGE}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1];
    switch (a) {
      case "--quick":
        break;
      case "--rounds":
        o.rounds = num(a, v, 1);
        i++;
        break;
      case "--duration":
        o.duration = num(a, v, 1);
        i++;
        break;
      case "--warmup":
        o.warmup = num(a, v, 0);
        i++;
        break;
      case "--rate":
        o.rate = num(a, v, 100);
        i++;
        break;
      case "--rate-duration":
        o.rateDuration = num(a, v, 1);
        i++;
        break;
      case "--idle":
        o.idleConnections = num(a, v, 0);
        i++;
        break;
      case "--out":
        if (!v) throw new Error(`--out needs a file\n${USAGE}`);
        o.out = v;
        i++;
        break;
      case "--agent-rev":
        if (!v) throw new Error(`--agent-rev needs a git revision\n${USAGE}`);
        o.agentRev = v;
        i++;
        break;
      case "--":
        break;
      case "-h":
      case "--help":
        throw new Error(USAGE);
      default:
        throw new Error(`unknown argument ${a}\n${USAGE}`);
    }
  }
  return o;
}
