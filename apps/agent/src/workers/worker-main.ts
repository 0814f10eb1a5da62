import { monitorEventLoopDelay } from "node:perf_hooks";
import { monotonicNow } from "../dataplane/pools/backend-runtime";
import { NodeEngine, type PreparedApply } from "../engines/builtin/node-engine";
import { errorCode, errorMessage } from "../errors";
import type { Logger } from "../log";
import { isTransientApplyError } from "../snapshot-retry";
import {
  FORWARDED_CALLS,
  type FromWorker,
  type ToWorker,
  WORKER_COUNT_ENV,
  WORKER_INDEX_ENV,
} from "./messages";
import { StickyRelay } from "./sticky-relay";

/** How often a worker proves its event loop turns (and sends its counters). */
export const BEAT_INTERVAL_MS = 250;

/**
 * Test-only fault: "INDEX:VERSION" makes worker INDEX refuse snapshot VERSION,
 * so a test can see a refusal by one worker NACKed for all (nothing else can
 * make one of N identical workers refuse what the others accept).
 */
const REFUSE_ENV = "FULCRUM_TEST_WORKER_REFUSE";

/**
 * A data-plane worker (a cluster worker forked by WorkerPoolEngine): one
 * NodeEngine serving the listeners the control process shares with it. Applies
 * in two steps on the control process's word; sends a heartbeat with its
 * counters; worker 0 probes backends and the others adopt its verdicts.
 */
export function runWorker(log: Logger): void {
  const send = (m: FromWorker) => process.send?.(m);
  const index = Number(process.env[WORKER_INDEX_ENV] ?? "0");
  const lead = index === 0;
  const sticky = new StickyRelay(send);
  const engine = new NodeEngine({
    stickySync: sticky,
    log,
    workerCount: Number(process.env[WORKER_COUNT_ENV] ?? "1"),
    health: lead
      ? {
          kind: "lead",
          publish: (id, state, reason) => send({ t: "verdicts", verdicts: [{ id, state, reason }] }),
        }
      : { kind: "follow" },
  });
  engine.onHealthEvent((event) => send({ t: "health", event }));
  const refuse = parseRefusal(process.env[REFUSE_ENV], index);
  const prepared = new Map<number, PreparedApply>();

  process.on("message", (raw: unknown) => {
    const m = raw as ToWorker;
    switch (m?.t) {
      case "prepare": {
        const version = m.args[0].version;
        if (refuse === version) {
          send({
            t: "refused",
            seq: m.seq,
            code: "test_refusal",
            message: `worker ${index} refuses version ${version} (${REFUSE_ENV})`,
            transient: false,
          });
          return;
        }
        engine.prepare(...m.args).then(
          (p) => {
            prepared.set(m.seq, p);
            send({ t: "prepared", seq: m.seq });
          },
          (e) =>
            send({
              t: "refused",
              seq: m.seq,
              code: errorCode(e),
              message: errorMessage(e),
              transient: isTransientApplyError(e),
            }),
        );
        return;
      }
      case "commit":
        prepared.get(m.seq)?.commit();
        prepared.delete(m.seq);
        send({ t: "committed", seq: m.seq });
        return;
      case "abort": {
        const p = prepared.get(m.seq);
        prepared.delete(m.seq);
        void (p?.abort() ?? Promise.resolve()).finally(() => send({ t: "aborted", seq: m.seq }));
        return;
      }
      case "call": {
        if (!FORWARDED_CALLS.includes(m.method)) return;
        const call = engine[m.method].bind(engine) as (...a: unknown[]) => Promise<void>;
        call(...m.args).then(
          () => send({ t: "called", seq: m.seq }),
          (e) => send({ t: "called", seq: m.seq, error: { code: errorCode(e), message: errorMessage(e) } }),
        );
        return;
      }
      case "verdicts":
        for (const v of m.verdicts) engine.checkers.adopt(v.id, v.state, v.reason);
        return;
      case "pins":
        engine.adoptPins(m.pool, m.pins);
        return;
      case "stop":
        engine.stop().finally(() => process.exit(0));
        return;
    }
  });
  // The control process going away (crash, kill -9) must not leave a worker serving alone.
  process.on("disconnect", () => process.exit(0));
  // Signals go to the control process, which stops the workers in order.
  process.on("SIGTERM", () => {});
  process.on("SIGINT", () => {});

  const stickyTtlMs = (poolId: string) => {
    const p = engine.pool(poolId)?.settings.persistence;
    return p?.type === "source_ip" ? p.ttlSeconds * 1000 : undefined;
  };
  // The loop's lateness between beats (sampled every 10 ms): a stuck loop sends no beat at all
  // (the control process kills it), a slow one shows here (fulcrum_worker_event_loop_delay_seconds).
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const beat = () => {
    sticky.flush(monotonicNow(), stickyTtlMs);
    const cpu = process.cpuUsage();
    const loopDelayMs = Number.isFinite(loopDelay.max) ? loopDelay.max / 1e6 : 0;
    loopDelay.reset();
    send({ t: "beat", stats: engine.stats(), cpuMicros: cpu.user + cpu.system, loopDelayMs });
  };
  setInterval(beat, BEAT_INTERVAL_MS);
  send({ t: "up" });
  beat();
}

function parseRefusal(value: string | undefined, index: number): number | undefined {
  const m = /^(\d+):(\d+)$/.exec(value ?? "");
  return m && Number(m[1]) === index ? Number(m[2]) : undefined;
}
