import { sleep, waitUntil } from "./clock.ts";
import type { ConsoleProcess } from "./console-process.ts";
import { Fleet } from "./fleet.ts";
import type { ChangeResult } from "./ipc.ts";
import { realBackoff } from "./policies.ts";
import type { Credential } from "./sim-agent.ts";
import { type Summary, summarize } from "./stats.ts";

export interface PushResult {
  agents: number;
  changes: number;
  /** Every (change, agent) pair: tRPC call start → that agent received the snapshot. */
  perAgentReceiptMs: Summary;
  /** Per change: call start → the last agent received it. */
  lastReceiptMs: Summary;
  /** Per change: call start → a poll of the agents table saw every ACK recorded. */
  acksRecordedMs: Summary;
  /** Per change: the tRPC call itself (transaction, audit, compile, commit). */
  callMs: Summary;
  /** Time to connect the fleet and deliver its first snapshot (batches of 100). */
  connectMs: number;
  raw: Array<{ version: number; callMs: number; lastReceiptMs: number; acksRecordedMs: number | null }>;
}

/**
 * Connects `creds` as simulated agents, then makes `changes` committed topology changes
 * (a backend toggled disabled/enabled by an operator) and times each one's delivery.
 * Leaves the fleet connected and returns it, so the caller can reuse or stop it.
 */
export async function measurePush(
  console_: ConsoleProcess,
  creds: readonly Credential[],
  backendId: string,
  changes: number,
): Promise<{ result: PushResult; fleet: Fleet }> {
  const fleet = new Fleet(creds, console_.url, realBackoff);
  const t0 = Date.now();
  await fleet.connectAll(1);
  const connectMs = Date.now() - t0;
  // Let the first round of ACK writes and hello bookkeeping drain.
  await sleep(500);

  const receipts = new Map<number, number[]>();
  const stopObserving = fleet.observe({
    snapshot: (_a, version, t) => {
      const list = receipts.get(version);
      if (list) list.push(t);
      else receipts.set(version, [t]);
    },
  });
  const perAgent: number[] = [];
  const raw: PushResult["raw"] = [];
  let lastVersion = Math.max(...fleet.agents.map((a) => a.applied?.version ?? 0));
  for (let i = 0; i < changes; i++) {
    const r = (await console_.request("toggle", { backendId, expectAcks: creds.length })) as ChangeResult;
    if (r.version <= lastVersion) throw new Error(`change ${i} did not commit a new version (v${r.version})`);
    lastVersion = r.version;
    await waitUntil(
      `all ${creds.length} agents to receive v${r.version}`,
      () => (receipts.get(r.version)?.length ?? 0) >= creds.length,
      30_000,
      5,
    );
    const times = (receipts.get(r.version) ?? []).map((t) => t - r.callStart);
    perAgent.push(...times);
    raw.push({
      version: r.version,
      callMs: r.callEnd - r.callStart,
      lastReceiptMs: Math.max(...times),
      acksRecordedMs: r.acksRecorded === null ? null : r.acksRecorded - r.callStart,
    });
    await sleep(100);
  }
  stopObserving();
  const recorded = raw.map((x) => x.acksRecordedMs).filter((x): x is number => x !== null);
  if (recorded.length < raw.length) {
    process.stderr.write(`fleet: ${raw.length - recorded.length} changes never saw every ACK recorded\n`);
  }
  return {
    fleet,
    result: {
      agents: creds.length,
      changes,
      perAgentReceiptMs: summarize(perAgent),
      lastReceiptMs: summarize(raw.map((x) => x.lastReceiptMs)),
      acksRecordedMs: summarize(recorded),
      callMs: summarize(raw.map((x) => x.callMs)),
      connectMs,
      raw,
    },
  };
}

/** Stops the fleet and waits until the console no longer counts any agent as connected. */
export async function disconnectFleet(console_: ConsoleProcess, fleet: Fleet): Promise<void> {
  fleet.stop();
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (((await console_.request("connected", {})) as number) === 0) return;
    await sleep(50);
  }
  throw new Error("the console still counts agents as connected 20 s after they closed");
}
