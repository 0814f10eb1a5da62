import cluster from "node:cluster";
import { parseConfig, USAGE } from "./config";
import { EXIT_CONFIG, EXIT_REFUSED, fatalClose } from "./console/close-handling";
import type { NodeEngine } from "./engines/builtin/node-engine";
import { createEngine } from "./engines/create-engine";
import { ConfigError, ConsoleRefusedError, EnrollRejectedError, errorCode, errorMessage } from "./errors";
import { createLogger } from "./log";
import { AgentMetrics } from "./metrics/agent-metrics";
import type { BackendHealthProbe } from "./metrics/backend-status";
import { runConsole } from "./run-console";
import { runFile } from "./run-file";
import { SOFTWARE_VERSION } from "./version";
import { runWorker } from "./workers/worker-main";

const log = createLogger();

function fail(e: unknown): never {
  if (e instanceof ConfigError) {
    process.stderr.write(`fulcrum-agent: ${e.message}\n\n${USAGE}\n`);
    process.exit(EXIT_CONFIG);
  }
  if (e instanceof ConsoleRefusedError) {
    log.error(`giving up: ${e.message}`);
    process.exit(fatalClose(e.closeCode)?.exitCode ?? EXIT_REFUSED);
  }
  if (e instanceof EnrollRejectedError) {
    log.error(`giving up: ${e.message}`);
    process.exit(EXIT_REFUSED);
  }
  log.error("fatal", { code: errorCode(e), error: errorMessage(e) });
  process.exit(1);
}

async function main(): Promise<void> {
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(process.argv.slice(2));
  } catch (e) {
    if (e instanceof ConfigError && e.message === "help requested") {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    return fail(e);
  }

  const { engine, capability, node } = await createEngine(config.engine, log);
  const metrics = new AgentMetrics({
    engine,
    log,
    name: config.name,
    version: SOFTWARE_VERSION,
    // Other engines report health through events only.
    ...(node ? { probe: healthProbe(node) } : {}),
    ...(config.mode === "console" ? { statsIntervalMs: config.statsIntervalMs } : {}),
    ...(config.metrics ? { prometheus: config.metrics } : {}),
  });
  const shutdown = new AbortController();
  const stop = async (signal: string) => {
    if (shutdown.signal.aborted) process.exit(1); // second signal: stop waiting for drains
    log.info("shutting down", { signal });
    shutdown.abort();
    await Promise.all([engine.stop(), metrics.stop()]);
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));

  try {
    await metrics.startPrometheus();
  } catch (e) {
    const m = config.metrics!;
    throw new ConfigError(`--metrics-port cannot bind ${m.host}:${m.port}: ${errorMessage(e)}`);
  }

  if (config.mode === "file") {
    await runFile(config.configPath, engine, log, metrics);
    return; // the listeners keep the process alive
  }
  await runConsole({ ...config, capabilities: [capability] }, engine, log, shutdown.signal, metrics);
}

/** Per pool and backend id: the engine's active-check verdict and ejection, for backend status. */
function healthProbe(engine: NodeEngine): BackendHealthProbe {
  const byPool = new WeakMap<
    object,
    Map<string, { checker?: { state: string } | undefined; ejected: boolean }>
  >();
  return (poolId, backendId) => {
    const pool = engine.pool(poolId);
    if (!pool) return undefined;
    let backends = byPool.get(pool);
    if (!backends) {
      backends = new Map(pool.backends.map((b) => [b.id, b]));
      byPool.set(pool, backends);
    }
    const b = backends.get(backendId);
    if (!b) return undefined;
    const state = b.checker?.state ?? "up";
    return { health: state === "down" ? "down" : state === "unknown" ? "unknown" : "up", ejected: b.ejected };
  };
}

// A data-plane worker forked by --workers N runs this same entry point (so a bundle needs no second one).
if (cluster.isWorker) runWorker(log);
else main().catch(fail);
