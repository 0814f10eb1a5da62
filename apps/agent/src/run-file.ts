import { readFile } from "node:fs/promises";
import { type Snapshot, snapshotSchema } from "@fulcrum/protocol";
import type { Engine } from "./dataplane/engine";
import { ConfigError, errorMessage } from "./errors";
import type { Logger } from "./log";
import type { AgentMetrics } from "./metrics/agent-metrics";
import { snapshotApplier } from "./snapshot-applier";

export async function readSnapshotFile(path: string): Promise<Snapshot> {
  let raw: string;
  try {
    raw = await readFile(path, "utf8");
  } catch (e) {
    throw new ConfigError(`cannot read --config ${path}: ${errorMessage(e)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new ConfigError(`--config ${path} is not valid JSON: ${errorMessage(e)}`);
  }
  const parsed = snapshotSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
    throw new ConfigError(`--config ${path} is not a valid snapshot${where}: ${issue?.message}`);
  }
  return parsed.data;
}

/** Console-less mode: serve one snapshot file; SIGHUP re-reads it and keeps the old config if it is bad. */
export async function runFile(
  path: string,
  engine: Engine,
  log: Logger,
  metrics?: AgentMetrics,
): Promise<void> {
  const applier = snapshotApplier(engine, undefined, log);
  const apply = metrics ? metrics.wrapApply(applier) : applier;
  const first = await apply(await readSnapshotFile(path));
  if (!first.ok) throw new ConfigError(`cannot serve ${path}: ${first.reason}`);
  process.on("SIGHUP", () => {
    log.info("SIGHUP: reloading", { path });
    readSnapshotFile(path)
      .then(apply)
      .catch((e) =>
        log.error("reload failed; still serving the previous config", { error: errorMessage(e) }),
      );
  });
}
