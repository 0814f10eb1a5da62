import { readFile, stat } from "node:fs/promises";
import {
  type CaBundleMaterial,
  type Snapshot,
  snapshotPayload,
  snapshotSchema,
  type TicketKeyRing,
  type TlsMaterial,
  ticketKeyRingSchema,
} from "@fulcrum/protocol";
import { randomTicketKeyRing } from "./dataplane/frontends/tls/ticket-keys";
import type { Engine } from "./engines/engine";
import { ConfigError, errorMessage } from "./errors";
import type { Logger } from "./log";
import type { AgentMetrics } from "./metrics/agent-metrics";
import { snapshotApplier } from "./snapshot-applier";
import { SnapshotRetry } from "./snapshot-retry";

/** The console's frame limit: a snapshot file larger than any snapshot a console could send is refused unread. */
export const MAX_SNAPSHOT_FILE_BYTES = 32 * 1024 * 1024;

/** What a --config file holds: a snapshot, the key material of its certificates, its pools' CA bundles, and maybe ticket keys. */
export interface ConfigFile {
  readonly snapshot: Snapshot;
  readonly tlsMaterial: readonly TlsMaterial[];
  readonly caBundles: readonly CaBundleMaterial[];
  /** Session-ticket keys to share with other agents serving the same file; absent: a random ring per process. */
  readonly ticketKeys?: TicketKeyRing;
}

/** The wrapped form: the snapshot message's payload, plus the `ticketKeys` message's payload. */
const configFileSchema = snapshotPayload.extend({ ticketKeys: ticketKeyRingSchema.optional() });

/**
 * A --config file is a bare snapshot, or (for TLS listeners, whose keys never
 * go into a snapshot) the snapshot message's payload:
 * `{ "snapshot": {...}, "tlsMaterial": [{ id, fingerprint, chainPem, keyPem }],
 *    "caBundles": [{ id, fingerprint, pem }],
 *    "ticketKeys": { generation, previous, current, next } }` (ticketKeys optional).
 */
export async function readSnapshotFile(path: string): Promise<ConfigFile> {
  let raw: string;
  try {
    const { size } = await stat(path);
    if (size > MAX_SNAPSHOT_FILE_BYTES) {
      throw new Error(`it has ${size} bytes; a snapshot has at most ${MAX_SNAPSHOT_FILE_BYTES}`);
    }
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
  const wrapped = typeof json === "object" && json !== null && "snapshot" in json;
  const parsed = wrapped ? configFileSchema.safeParse(json) : snapshotSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
    throw new ConfigError(`--config ${path} is not a valid snapshot${where}: ${issue?.message}`);
  }
  if (!wrapped) return { snapshot: parsed.data as Snapshot, tlsMaterial: [], caBundles: [] };
  const payload = parsed.data as {
    snapshot: Snapshot;
    tlsMaterial?: TlsMaterial[];
    caBundles?: CaBundleMaterial[];
    ticketKeys?: TicketKeyRing;
  };
  return {
    snapshot: payload.snapshot,
    tlsMaterial: payload.tlsMaterial ?? [],
    caBundles: payload.caBundles ?? [],
    ...(payload.ticketKeys ? { ticketKeys: payload.ticketKeys } : {}),
  };
}

/** Console-less mode: serve one snapshot file; SIGHUP re-reads it and keeps the old config if it is bad. */
export async function runFile(
  path: string,
  engine: Engine,
  log: Logger,
  metrics?: AgentMetrics,
): Promise<void> {
  const applier = snapshotApplier(engine, undefined, log);
  // A reload refused because a port is taken is applied again until it serves (logged; no console to tell).
  const retry = new SnapshotRetry({ apply: metrics ? metrics.wrapApply(applier) : applier, log });
  const apply = retry.apply;
  const config = await readSnapshotFile(path);
  // Before the first apply, so HAProxy starts with the keys file; no keys in the file: this process's own ring.
  await useTicketKeys(engine, config.ticketKeys ?? randomTicketKeyRing());
  const first = await apply(config.snapshot, config.tlsMaterial, config.caBundles);
  if (!first.ok) {
    retry.stop();
    throw new ConfigError(`cannot serve ${path}: ${first.reason}`);
  }
  process.on("SIGHUP", () => {
    log.info("SIGHUP: reloading", { path });
    readSnapshotFile(path)
      .then(async (c) => {
        if (c.ticketKeys) await useTicketKeys(engine, c.ticketKeys);
        return apply(c.snapshot, c.tlsMaterial, c.caBundles);
      })
      .catch((e) =>
        log.error("reload failed; still serving the previous config", { error: errorMessage(e) }),
      );
  });
}

async function useTicketKeys(engine: Engine, ring: TicketKeyRing): Promise<void> {
  try {
    await engine.setTicketKeys?.(ring);
  } catch (e) {
    throw new ConfigError(`cannot use the ticket keys: ${errorMessage(e)}`);
  }
}
