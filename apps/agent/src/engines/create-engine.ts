import { execFile } from "node:child_process";
import type { EngineConfig } from "../config";
import { ConfigError } from "../errors";
import type { Logger } from "../log";
import { WorkerPoolEngine } from "../workers/worker-pool-engine";
import { NodeEngine } from "./builtin/node-engine";
import type { Engine } from "./engine";
import { HaproxyEngine } from "./haproxy/haproxy-engine";

/** `haproxy -v` first line, or a ConfigError saying how to get HAProxy. */
function haproxyVersion(bin: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, ["-v"], { timeout: 10_000 }, (err, stdout) => {
      if (err) {
        reject(
          new ConfigError(
            `--engine haproxy cannot run ${bin} (${err.message.split("\n")[0]}): install the haproxy package or pass --haproxy-bin PATH`,
          ),
        );
        return;
      }
      resolve(stdout.split("\n")[0] ?? "");
    });
  });
}

/** Debian installs HAProxy in /usr/sbin, which is not on every user's PATH. */
async function findHaproxy(bin: string): Promise<{ bin: string; version: string }> {
  try {
    return { bin, version: await haproxyVersion(bin) };
  } catch (e) {
    if (bin !== "haproxy") throw e;
    return {
      bin: "/usr/sbin/haproxy",
      version: await haproxyVersion("/usr/sbin/haproxy").catch(() => Promise.reject(e)),
    };
  }
}

/** The data plane the config asks for, and the hello capability naming it ("engine:builtin" / "engine:haproxy"). */
export async function createEngine(
  config: EngineConfig,
  log: Logger,
): Promise<{ engine: Engine; capability: string; node?: NodeEngine; workers?: WorkerPoolEngine }> {
  if (config.name === "haproxy") {
    const { bin, version } = await findHaproxy(config.bin);
    log.info("data plane: haproxy", { bin, version, files: `${config.stateDir}/haproxy` });
    return {
      engine: new HaproxyEngine({ log, stateDir: config.stateDir, bin }),
      capability: "engine:haproxy",
    };
  }
  if (config.workers > 1) {
    const pool = new WorkerPoolEngine({ log, workers: config.workers, stallMs: config.stallMs });
    await pool.start();
    return { engine: pool, capability: "engine:builtin", workers: pool };
  }
  // One worker: in this process, no extra hop (exactly the engine before --workers existed).
  const node = new NodeEngine({ log });
  return { engine: node, capability: "engine:builtin", node };
}
