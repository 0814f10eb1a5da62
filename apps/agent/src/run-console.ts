import { TICKET_KEYS_CAPABILITY } from "@fulcrum/protocol";
import { ConsoleConnection } from "./console/connection";
import type { ConsoleTls } from "./console/console-tls";
import { enroll } from "./console/enroll";
import type { Engine } from "./engines/engine";
import { ConfigError, ConsoleCertUntrustedError, EnrollUnavailableError, errorMessage } from "./errors";
import type { Logger } from "./log";
import type { AgentMetrics } from "./metrics/agent-metrics";
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF, sleep } from "./retry/backoff";
import { snapshotApplier } from "./snapshot-applier";
import { SnapshotRetry } from "./snapshot-retry";
import { CredentialStore, type StoredCredential } from "./state/credential-store";
import { SnapshotStore } from "./state/snapshot-store";
import { ensureStateDir } from "./state/state-dir";
import { SOFTWARE_VERSION } from "./version";
import { workersReport } from "./workers/workers-report";

export interface ConsoleModeOptions {
  consoleUrl: URL;
  /** How the console's certificate is verified (--console-ca). */
  consoleTls: ConsoleTls;
  token: string | undefined;
  stateDir: string;
  name: string;
  /** Stats points kept while the console is unreachable (default 900). */
  statsBuffer?: number;
  /** Extra hello capabilities, e.g. the engine ("engine:haproxy"). */
  capabilities?: readonly string[];
  /** Back-off of re-applying a snapshot refused for a transient reason (default 1 s .. 60 s). */
  applyRetry?: BackoffOptions;
  /** Which engine serves (the heartbeat's workers report names it); default builtin. */
  engine?: { name: "builtin" | "haproxy" };
}

/** Console mode: serve the last good snapshot at once, then enroll if needed and follow the console. */
export async function runConsole(
  opts: ConsoleModeOptions,
  engine: Engine,
  log: Logger,
  signal: AbortSignal,
  metrics?: AgentMetrics,
) {
  await ensureStateDir(opts.stateDir, log);
  const snapshots = new SnapshotStore(opts.stateDir, log);
  const applier = snapshotApplier(engine, snapshots, log);
  let connection: ConsoleConnection | undefined;
  // A snapshot refused because a port is taken is applied again until it serves, each failure nacked.
  const retry = new SnapshotRetry({
    apply: metrics ? metrics.wrapApply(applier) : applier,
    report: (version, outcome) => connection?.report(version, outcome),
    log,
    ...(opts.applyRetry ? { backoff: opts.applyRetry } : {}),
  });
  const apply = retry.apply;
  signal.addEventListener("abort", () => retry.stop(), { once: true });

  const stored = await snapshots.load();
  if (stored) {
    const r = await apply(stored, await snapshots.loadMaterial(), await snapshots.loadCaBundles());
    if (r.ok) log.info("serving stored snapshot until the console answers", { version: stored.version });
  }

  const credentials = new CredentialStore(opts.stateDir);
  const cred = (await credentials.load()) ?? (await enrollUntilDone(opts, credentials, log, signal));
  if (!cred) return;
  if (cred.consoleUrl !== opts.consoleUrl.href) {
    log.warn("credential was issued by another console URL", {
      issuedBy: cred.consoleUrl,
      using: opts.consoleUrl.href,
    });
  }

  connection = new ConsoleConnection({
    consoleUrl: opts.consoleUrl,
    tls: opts.consoleTls,
    credential: cred.credential,
    log,
    hello: () => ({
      name: opts.name,
      softwareVersion: SOFTWARE_VERSION,
      protocolVersions: [1],
      capabilities: [
        "http",
        "tcp",
        ...(engine.setTicketKeys ? [TICKET_KEYS_CAPABILITY] : []),
        ...(opts.capabilities ?? []),
      ],
      appliedVersion: engine.applied?.version ?? null,
      appliedHash: engine.applied?.hash ?? null,
    }),
    appliedVersion: () => engine.applied?.version ?? null,
    workers: () => workersReport(engine, opts.engine?.name ?? "builtin"),
    applySnapshot: apply,
    ...(engine.setTicketKeys ? { applyTicketKeys: (ring) => engine.setTicketKeys!(ring) } : {}),
    ...(engine.onHealthEvent ? { subscribeHealth: (fn) => engine.onHealthEvent!(fn) } : {}),
    ...(metrics && engine.stats
      ? { subscribeStats: (fn) => metrics.sampler.subscribe(fn), statsBufferPoints: opts.statsBuffer }
      : {}),
  });
  // Sampling starts with the session loop, so points from before the first welcome are buffered too.
  metrics?.sampler.start();
  signal.addEventListener("abort", () => connection.stop(), { once: true });
  await connection.run();
}

async function enrollUntilDone(
  opts: ConsoleModeOptions,
  store: CredentialStore,
  log: Logger,
  signal: AbortSignal,
): Promise<StoredCredential | undefined> {
  if (!opts.token) {
    throw new ConfigError(
      `no credential in ${opts.stateDir}: pass --token (or FULCRUM_AGENT_TOKEN) to enroll`,
    );
  }
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      const r = await enroll(opts.consoleUrl, opts.token, opts.name, opts.consoleTls);
      const cred = { ...r, consoleUrl: opts.consoleUrl.href };
      await store.save(cred);
      log.info("enrolled", { agentId: r.agentId, clusterId: r.clusterId, credential: store.path });
      return cred;
    } catch (e) {
      if (!(e instanceof EnrollUnavailableError || e instanceof ConsoleCertUntrustedError)) throw e;
      const delay = backoffDelay(attempt, DEFAULT_BACKOFF);
      // An untrusted certificate needs the operator (--console-ca): an error, not a warning.
      if (e instanceof ConsoleCertUntrustedError) log.error(e.message, { code: e.code, retryInMs: delay });
      else log.warn("enrollment failed; retrying", { error: errorMessage(e), inMs: delay });
      await sleep(delay, signal);
    }
  }
  return undefined;
}
