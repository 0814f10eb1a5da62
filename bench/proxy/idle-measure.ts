import { httpGet } from "./http-check";
import { IdleConnections } from "./idle";
import { rssKiB } from "./processes";
import type { IdleReport } from "./report";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface IdleMeasureOptions {
  /** The agent's http listener. */
  readonly port: number;
  readonly agentPid: number;
  /** Connections to open now; fewer than `target` when this machine cannot hold them all. */
  readonly hold: number;
  /** What was asked for: the RSS is projected to it when `hold` is smaller. */
  readonly target: number;
  /** Connections per client process (each has its own open-file limit). */
  readonly perProcess: number;
  readonly batch?: number;
  readonly openDeadlineMs?: number;
  /** A new request, with every idle connection open, must be answered within this. */
  readonly answerTimeoutMs: number;
  /** Sentences for the report's notes. */
  readonly notes: string[];
  readonly log: (line: string) => void;
  /** Called right after the RSS is read with every connection held (for more readings at that moment). */
  readonly onHeld?: () => void;
}

/**
 * The idle-connection measurement, on the host (proxy/run.ts) and in the VM
 * (vm/guest/measure.ts): the agent's RSS before, with `hold` keep-alive
 * connections open (each sent one GET and read its response) and after they
 * close; how many were still open at the measurement; whether a new request is
 * still answered.
 */
export async function measureIdleConnections(o: IdleMeasureOptions): Promise<IdleReport> {
  const rssBeforeKiB = rssKiB(o.agentPid);
  o.log(`idle: opening ${o.hold} keep-alive connections to the agent (RSS ${mib(rssBeforeKiB)})`);
  const conns = new IdleConnections();
  try {
    const opened = await conns.openAll(o.port, o.hold, o.perProcess, o.batch, o.openDeadlineMs);
    o.log(`idle: opened ${opened.opened}, failed ${opened.failed} in ${opened.openSeconds.toFixed(0)} s`);
    await sleep(2000);
    const held = await conns.countOpen();
    const rssAfterKiB = rssKiB(o.agentPid);
    o.onHeld?.();
    let stillAnswers = false;
    let answerMs = Number.NaN;
    try {
      const a = await httpGet(o.port, o.answerTimeoutMs);
      stillAnswers = a.status === 200;
      answerMs = a.ms;
    } catch (e) {
      o.notes.push(`with the idle connections open, a new request failed: ${(e as Error).message}`);
    }
    await conns.closeAll();
    await sleep(3000);
    const rssAfterCloseKiB = rssKiB(o.agentPid);
    o.log(`idle: ${held} held, RSS ${mib(rssAfterKiB)}; ${mib(rssAfterCloseKiB)} after closing`);
    const perConnBytes = ((rssAfterKiB - rssBeforeKiB) * 1024) / Math.max(1, held);
    return {
      ...opened,
      target: o.target,
      heldAtMeasure: held,
      rssBeforeKiB,
      rssAfterKiB,
      rssAfterCloseKiB,
      stillAnswers,
      answerMs,
      bytesPerConnection: perConnBytes,
      projectedRssAtTargetKiB: held < o.target ? rssBeforeKiB + (perConnBytes * o.target) / 1024 : null,
    };
  } finally {
    await conns.closeAll();
  }
}

const mib = (kib: number) => `${Math.round(kib / 1024)} MiB`;
