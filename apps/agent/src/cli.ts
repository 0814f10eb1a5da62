import { parseConfig, USAGE } from "./config";
import { EXIT_CONFIG, EXIT_REFUSED, fatalClose } from "./console/close-codes";
import { NodeEngine } from "./dataplane/node-engine";
import { ConfigError, ConsoleRefusedError, EnrollRejectedError, errorCode, errorMessage } from "./errors";
import { createLogger } from "./log";
import { runConsole } from "./run-console";
import { runFile } from "./run-file";

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

  const engine = new NodeEngine({ log });
  const shutdown = new AbortController();
  const stop = async (signal: string) => {
    if (shutdown.signal.aborted) process.exit(1); // second signal: stop waiting for drains
    log.info("shutting down", { signal });
    shutdown.abort();
    await engine.stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));

  if (config.mode === "file") {
    await runFile(config.configPath, engine, log);
    return; // the listeners keep the process alive
  }
  await runConsole(config, engine, log, shutdown.signal);
}

main().catch(fail);
