export interface VmOptions {
  connections: number;
  /** Guest RAM: the unpacked initramfs (~130 MiB), the agent, the client processes and the sockets. */
  memoryMiB: number;
  smp: number;
  agentRev: string | undefined;
  perProcess: number;
  batch: number;
  timeoutMin: number;
  /** The listener's keepAliveMs and idleMs in the guest's snapshot. */
  keepAliveMs: number;
  out: string | undefined;
}

export const USAGE = `usage: pnpm --filter @fulcrum/bench idle-vm [--connections N] [--memory-mib N] [--smp N]
                                        [--agent-rev REV] [--per-process N] [--batch N]
                                        [--timeout-min M] [--keep-alive-ms MS] [--out FILE]
  --connections N     idle keep-alive connections held on one agent in the VM (default 36000)
  --memory-mib N      guest RAM (default 3072)
  --smp N             guest vCPUs, one TCG thread each (default 2)
  --agent-rev REV     run the agent as committed at REV (git archive) instead of the working tree
  --per-process N     connections per client process (default 12000, 3 processes for 36000)
  --batch N           connections opened at once by a client process (default 500, as bench/proxy)
  --timeout-min M     the whole VM run is killed after M minutes (default 60)
  --keep-alive-ms MS  the listener's keepAliveMs and idleMs (default 3600000: opening 36,000 under
                      TCG takes minutes, the agent's default 30 s would close the first ones)
  --out FILE          JSON results file (default bench/results/idle-vm-<date>.json)`;

export function parseVmOptions(argv: readonly string[]): VmOptions {
  const o: VmOptions = {
    connections: 36_000,
    memoryMiB: 3072,
    smp: 2,
    agentRev: undefined,
    perProcess: 12_000,
    batch: 500,
    timeoutMin: 60,
    keepAliveMs: 3_600_000,
    out: undefined,
  };
  const int = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`${flag} needs an integer ≥ ${min}\n${USAGE}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1];
    switch (a) {
      case "--connections":
        o.connections = int(a, v, 1);
        break;
      case "--memory-mib":
        o.memoryMiB = int(a, v, 256);
        break;
      case "--smp":
        o.smp = int(a, v, 1);
        break;
      case "--per-process":
        o.perProcess = int(a, v, 1);
        break;
      case "--batch":
        o.batch = int(a, v, 1);
        break;
      case "--timeout-min":
        o.timeoutMin = int(a, v, 1);
        break;
      case "--keep-alive-ms":
        o.keepAliveMs = int(a, v, 1);
        break;
      case "--agent-rev":
        if (!v) throw new Error(`--agent-rev needs a revision\n${USAGE}`);
        o.agentRev = v;
        break;
      case "--out":
        if (!v) throw new Error(`--out needs a file\n${USAGE}`);
        o.out = v;
        break;
      case "--help":
      case "-h":
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${a}\n${USAGE}`);
    }
    i++;
  }
  return o;
}
