export interface FleetOptions {
  /** PostgreSQL (a fresh database per console on DATABASE_URL's server) instead of PGlite. */
  postgres: boolean;
  databaseUrl: string;
  /** Fleet sizes for the push-latency runs; the largest is also the idle and storm fleet. */
  sizes: number[];
  changes: number;
  idleSeconds: number;
  only: Set<"push" | "idle" | "storm" | "ingest">;
  /** Measured seconds per ingest fleet size (after a 5 s warm-up). */
  ingestSeconds: number;
  /** Request-to-graph samples. */
  graphSamples: number;
}

const USAGE = `pnpm --filter @fulcrum/bench fleet [--postgres] [--quick] [--sizes 1,100,1000]
    [--changes 20] [--idle-seconds 20] [--only push,idle,storm,ingest]
    [--ingest-seconds 20] [--graph-samples 10]
  --postgres   console on PostgreSQL (fresh databases on DATABASE_URL, default
               postgres://postgres@127.0.0.1:5432/postgres) instead of embedded PGlite
  --quick      sizes 1,100,300, 8 changes, 8 s idle`;

export function parseOptions(argv: string[]): FleetOptions {
  const o: FleetOptions = {
    postgres: false,
    databaseUrl: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    sizes: [1, 100, 1000],
    changes: 20,
    idleSeconds: 20,
    only: new Set(["push", "idle", "storm", "ingest"]),
    ingestSeconds: 20,
    graphSamples: 10,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === "--") continue;
    else if (a === "--postgres") o.postgres = true;
    else if (a === "--quick")
      Object.assign(o, {
        sizes: [1, 100, 300],
        changes: 8,
        idleSeconds: 8,
        ingestSeconds: 8,
        graphSamples: 5,
      });
    else if (a === "--sizes") o.sizes = value().split(",").map(Number);
    else if (a === "--changes") o.changes = Number(value());
    else if (a === "--idle-seconds") o.idleSeconds = Number(value());
    else if (a === "--only")
      o.only = new Set(value().split(",") as Array<"push" | "idle" | "storm" | "ingest">);
    else if (a === "--ingest-seconds") o.ingestSeconds = Number(value());
    else if (a === "--graph-samples") o.graphSamples = Number(value());
    else if (a === "--help" || a === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  if (o.sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 1000)) {
    throw new Error("--sizes: 1..1000 each (one enrollment token allows at most 1,000 uses)");
  }
  o.sizes.sort((a, b) => a - b);
  return o;
}
