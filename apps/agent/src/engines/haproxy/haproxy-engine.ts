import { execFile } from "node:child_process";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CaBundleMaterial, Snapshot, TicketKeyRing, TlsMaterial } from "@fulcrum/protocol";
import { checkTicketKeyRing } from "../../dataplane/frontends/tls/ticket-keys";
import { errorMessage } from "../../errors";
import type { Logger } from "../../log";
import type { AppliedSnapshot, Engine, EngineStats } from "../engine";
import { type HealthEventListener, HealthEvents } from "../health-events";
import { SerialQueue } from "../serial-queue";
import { caBundleFiles } from "./backend-tls";
import { HaproxyConfigRejectedError } from "./errors";
import { renderConfig } from "./render-config";
import { parseShowStat, runtimeCommand, runtimeSet, setSslCert } from "./runtime-api";
import { runtimeChanges } from "./runtime-diff";
import { carryServerState, EMPTY_SERVER_STATE } from "./server-state";
import { HaproxyStats } from "./stats";
import { HaproxySupervisor } from "./supervisor";
import { renderTicketKeysFile, runtimeTicketKeys, sameRing, setTlsKey } from "./ticket-key-file";
import { certificateFiles, certPath, renderCrtLists, rotatedCertificates, tlsListeners } from "./tls-files";
import { syncTlsFiles } from "./tls-store";
import { assertSupported } from "./validate";

export interface HaproxyEngineOptions {
  log: Logger;
  /** The agent's state dir; HAProxy's files live in <stateDir>/haproxy. */
  stateDir: string;
  /** The haproxy executable (default "haproxy" on PATH). */
  bin?: string;
  /** How often `show stat` is read (default 1000 ms). */
  statsIntervalMs?: number;
}

/** Where the engine keeps HAProxy's files under the agent's state dir. */
export function haproxyPaths(stateDir: string) {
  const dir = join(stateDir, "haproxy");
  return {
    dir,
    configPath: join(dir, "haproxy.cfg"),
    statsSocket: join(dir, "stats.sock"),
    serverStateFile: join(dir, "server-state"),
    masterSocket: join(dir, "master.sock"),
    pidFile: join(dir, "haproxy.pid"),
    /** Certificates (chain + key, 0600) and crt-lists, in a 0700 dir of their own. */
    certDir: join(dir, "certs"),
    /** The cluster's session-ticket keys (ticket-key-file.ts), 0600. */
    ticketKeysFile: join(dir, "tls-ticket-keys"),
  };
}

/** `haproxy -c`: resolves with nothing, rejects with HAProxy's own complaint. */
export function checkConfig(bin: string, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(bin, ["-c", "-q", "-f", path], { timeout: 15_000 }, (err, stdout, stderr) => {
      if (!err) return resolve();
      const alerts = `${stdout}\n${stderr}`
        .split("\n")
        .filter((l) => l.includes("[ALERT]") || l.includes("error"))
        .join(" ")
        .slice(0, 3000);
      reject(
        new HaproxyConfigRejectedError(`haproxy -c refused the rendered config: ${alerts || err.message}`),
      );
    });
  });
}

/** Whether this HAProxy knows a global keyword (probed once with haproxy -c on a one-line config). */
async function supportsGlobal(bin: string, dir: string, keyword: string): Promise<boolean> {
  const path = join(dir, "probe.cfg");
  await writeFile(path, `global\n  ${keyword}\n`, { mode: 0o600 });
  try {
    await checkConfig(bin, path);
    return true;
  } catch {
    return false;
  } finally {
    await rm(path, { force: true });
  }
}

/**
 * The HAProxy data plane: renders haproxy.cfg from the snapshot and runs
 * HAProxy in master-worker mode under the agent. Weight and drain/disable
 * changes go through the runtime API; anything else is checked with
 * `haproxy -c` and reloaded hitlessly. A rejected config never replaces the
 * one serving.
 */
export class HaproxyEngine implements Engine {
  private current: Snapshot | undefined;
  private currentMaterial: readonly TlsMaterial[] = [];
  private currentCaBundles: readonly CaBundleMaterial[] = [];
  /** The cluster's ticket-key ring, once the console (or --config) gave one. */
  private ring: TicketKeyRing | undefined;
  /** Whether the serving config's TLS binds name the ticket-keys file (else a ring needs a reload to take). */
  private ticketKeysRendered = false;
  private readonly queue = new SerialQueue();
  private readonly paths: ReturnType<typeof haproxyPaths>;
  private readonly bin: string;
  private readonly supervisor: HaproxySupervisor;
  private readonly events = new HealthEvents();
  private readonly statsView: HaproxyStats;
  private poller: NodeJS.Timeout | undefined;
  private polling = false;
  private reloading = false;
  private idleCloseOnResponse: boolean | undefined;

  constructor(private readonly opts: HaproxyEngineOptions) {
    this.paths = haproxyPaths(opts.stateDir);
    this.bin = opts.bin ?? "haproxy";
    this.supervisor = new HaproxySupervisor({
      bin: this.bin,
      configPath: this.paths.configPath,
      masterSocket: this.paths.masterSocket,
      pidFile: this.paths.pidFile,
      log: opts.log,
    });
    this.supervisor.onRestart = () => this.statsView.rebase();
    this.statsView = new HaproxyStats((e) => this.events.emit(e));
    this.events.subscribe((e) => {
      const fields = {
        pool: e.poolId,
        backend: e.backendId,
        upstream: `${e.address}:${e.port}`,
        reason: e.reason,
      };
      if (e.state === "down") opts.log.warn(`backend ${e.state}`, fields);
      else opts.log.info(`backend ${e.state}`, fields);
    });
  }

  get applied(): AppliedSnapshot | undefined {
    return this.current && { version: this.current.version, hash: this.current.hash };
  }

  /** For tests and status output: HAProxy's master pid and files. */
  get masterPid(): number | undefined {
    return this.supervisor.masterPid;
  }

  get files() {
    return this.paths;
  }

  onHealthEvent(listener: HealthEventListener): () => void {
    return this.events.subscribe(listener);
  }

  stats(): EngineStats {
    return this.statsView.stats;
  }

  /** `tlsMaterial`: keys and chains of the snapshot's certificates (snapshot message, not the snapshot). */
  apply(
    snapshot: Snapshot,
    tlsMaterial: readonly TlsMaterial[] = [],
    caBundles: readonly CaBundleMaterial[] = [],
  ): Promise<void> {
    return this.queue.run(() => this.applyNow(snapshot, tlsMaterial, caBundles));
  }

  /**
   * The cluster's ticket-key ring: written to the keys file (0600), then
   * pushed to the running worker with `set ssl tls-key` (no reload). The first
   * ring for a config that does not name the file yet (or a runtime refusal)
   * reloads once, re-rendering the binds with `tls-ticket-keys`. A bad ring
   * rejects with TicketKeysInvalidError before anything is written.
   */
  setTicketKeys(ring: TicketKeyRing): Promise<void> {
    const checked = checkTicketKeyRing(ring);
    return this.queue.run(() => this.useTicketKeys(checked));
  }

  private async useTicketKeys(ring: TicketKeyRing): Promise<void> {
    const old = this.ring;
    if (old && sameRing(old, ring)) return;
    const { dir, ticketKeysFile, statsSocket } = this.paths;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(`${ticketKeysFile}.tmp`, renderTicketKeysFile(ring), { mode: 0o600 });
    await rename(`${ticketKeysFile}.tmp`, ticketKeysFile);
    this.ring = ring;
    const serving = this.current;
    if (!serving || !this.supervisor.running || tlsListeners(serving).length === 0) return;
    if (this.ticketKeysRendered && old) {
      try {
        for (const key of runtimeTicketKeys(old, ring)) await setTlsKey(statsSocket, ticketKeysFile, key);
        this.opts.log.info("haproxy ticket keys rotated through the runtime API", {
          generation: ring.generation,
        });
        return;
      } catch (e) {
        this.opts.log.warn("haproxy refused the ticket keys at runtime; reloading", {
          error: errorMessage(e),
        });
      }
    }
    await this.applyNow(serving, this.currentMaterial, this.currentCaBundles, true);
  }

  private async applyNow(
    snapshot: Snapshot,
    tlsMaterial: readonly TlsMaterial[],
    caBundles: readonly CaBundleMaterial[],
    forceReload = false,
  ): Promise<void> {
    assertSupported(snapshot);
    const { dir, configPath, statsSocket, serverStateFile, certDir } = this.paths;
    const paths = { statsSocket, serverStateFile, certDir };
    // Checked before anything is written: bad material is a NACK and the serving files stay.
    const certFiles = certificateFiles(snapshot, tlsMaterial, certDir);
    const crtLists = renderCrtLists(snapshot, certDir);
    const bundleFiles = caBundleFiles(snapshot, caBundles, certDir);
    const tlsFiles = new Map([...certFiles, ...crtLists, ...bundleFiles]);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    this.idleCloseOnResponse ??= await supportsGlobal(this.bin, dir, "idle-close-on-response");
    const ticketKeysFile = this.ring ? this.paths.ticketKeysFile : undefined;
    const text = renderConfig(snapshot, paths, {
      idleCloseOnResponse: this.idleCloseOnResponse,
      ...(ticketKeysFile ? { ticketKeysFile } : {}),
    });

    const old = this.current;
    const sameTicketKeys = (ticketKeysFile !== undefined) === this.ticketKeysRendered;
    if (old && this.supervisor.running && !forceReload && sameTicketKeys) {
      // Structure = the config without runtime fields, plus the crt-lists (names per certificate).
      const structure = (s: Snapshot) =>
        [renderConfig(s, paths, { neutral: true }), ...renderCrtLists(s, certDir).entries()].join("\n");
      if (structure(old) === structure(snapshot) && (await this.applyAtRuntime(old, snapshot, tlsFiles))) {
        // The file follows, so a later reload or restart starts from the same state.
        await writeFile(configPath, text, { mode: 0o600 });
        this.current = snapshot;
        this.currentMaterial = tlsMaterial;
        this.currentCaBundles = caBundles;
        this.opts.log.info("haproxy updated through the runtime API", { version: snapshot.version });
        return;
      }
    }

    const previousTls = await syncTlsFiles(certDir, tlsFiles);

    const candidate = `${configPath}.new`;
    await writeFile(candidate, text, { mode: 0o600 });
    try {
      await checkConfig(this.bin, candidate);
    } catch (e) {
      await rm(candidate, { force: true });
      await syncTlsFiles(certDir, previousTls);
      throw e;
    }
    const previous = await readFile(configPath, "utf8").catch(() => undefined);
    await rename(candidate, configPath);
    const restore = async () => {
      await syncTlsFiles(certDir, previousTls);
      if (previous === undefined) await rm(configPath, { force: true });
      else await writeFile(configPath, previous, { mode: 0o600 });
    };
    try {
      if (this.supervisor.running) {
        await this.saveServerState(old, snapshot);
        this.reloading = true;
        try {
          await this.supervisor.reload();
        } finally {
          // Loaded (or not needed) by now; a later crash restart must start from the config alone,
          // not from states that runtime-API changes have since overtaken.
          await writeFile(serverStateFile, EMPTY_SERVER_STATE, { mode: 0o600 });
          this.statsView.rebase();
          this.reloading = false;
        }
        this.opts.log.info("haproxy reloaded", { version: snapshot.version });
      } else {
        // A fresh start begins from the config alone (health from the first checks).
        await writeFile(serverStateFile, EMPTY_SERVER_STATE, { mode: 0o600 });
        await this.supervisor.start();
        this.opts.log.info("haproxy started", { version: snapshot.version, pid: this.supervisor.masterPid });
      }
    } catch (e) {
      await restore();
      throw e;
    }
    this.current = snapshot;
    this.currentMaterial = tlsMaterial;
    this.currentCaBundles = caBundles;
    this.ticketKeysRendered = ticketKeysFile !== undefined;
    this.startPolling();
  }

  /**
   * Weights, states and rotated certificates through the runtime API: each
   * rotated certificate's file is rewritten, then `set ssl cert` + `commit
   * ssl cert` swap it in the running worker (new handshakes get it, open
   * connections keep their session, nothing is rebound). False when HAProxy
   * refused a certificate: the caller reloads instead, from the files now on
   * disk.
   */
  private async applyAtRuntime(
    old: Snapshot,
    snapshot: Snapshot,
    tlsFiles: ReadonlyMap<string, string>,
  ): Promise<boolean> {
    const { statsSocket, certDir } = this.paths;
    await syncTlsFiles(certDir, tlsFiles);
    for (const id of rotatedCertificates(old, snapshot)) {
      const path = certPath(certDir, id);
      try {
        await setSslCert(statsSocket, path, tlsFiles.get(path) ?? "");
      } catch (e) {
        this.opts.log.warn("haproxy refused a certificate at runtime; reloading", {
          certificate: id,
          error: errorMessage(e),
        });
        return false;
      }
    }
    for (const cmd of runtimeChanges(old, snapshot)) await runtimeSet(statsSocket, cmd);
    return true;
  }

  /** What the serving worker knows of servers that stay the same, for the next worker to restore. */
  private async saveServerState(from: Snapshot | undefined, to: Snapshot): Promise<void> {
    let text = EMPTY_SERVER_STATE;
    if (from) {
      try {
        text = carryServerState(await runtimeCommand(this.paths.statsSocket, "show servers state"), from, to);
      } catch (e) {
        this.opts.log.warn("could not save HAProxy server state; servers restart from the config", {
          error: errorMessage(e),
        });
      }
    }
    await writeFile(this.paths.serverStateFile, text, { mode: 0o600 });
  }

  private startPolling(): void {
    if (this.poller) return;
    this.poller = setInterval(() => void this.poll(), this.opts.statsIntervalMs ?? 1000);
    this.poller.unref();
  }

  private async poll(): Promise<void> {
    const snapshot = this.current;
    if (this.polling || this.reloading || !snapshot || !this.supervisor.running) return;
    this.polling = true;
    try {
      const csv = await runtimeCommand(this.paths.statsSocket, "show stat", 2000);
      if (!this.reloading) this.statsView.ingest(parseShowStat(csv), snapshot);
    } catch (e) {
      this.opts.log.debug("haproxy show stat failed", { error: errorMessage(e) });
    } finally {
      this.polling = false;
    }
  }

  async stop(): Promise<void> {
    await this.queue.idle();
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
    await this.supervisor.stop();
  }
}
