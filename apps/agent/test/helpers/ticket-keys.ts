import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Snapshot, TicketKeyRing, TlsMaterial } from "@fulcrum/protocol";
import type { WebSocket } from "ws";
import { type AgentProcess, spawnAgent } from "./agent-process";
import { freePort } from "./net";
import { credentialJson, type StandInConsole, startStandInConsole } from "./stand-in-console";

const key = () => randomBytes(48).toString("base64");

/** A ring of fresh random keys, as the console makes one. */
export const ring = (generation: number): TicketKeyRing => ({
  generation,
  previous: key(),
  current: key(),
  next: key(),
});

/** The ring after one rotation: previous ← current, current ← next, a fresh next. */
export const rotated = (r: TicketKeyRing): TicketKeyRing => ({
  generation: r.generation + 1,
  previous: r.current,
  current: r.next,
  next: key(),
});

/** One agent process following its own stand-in console, serving one TLS listener. */
export interface TlsNode {
  console_: StandInConsole;
  ws: WebSocket;
  agent: AgentProcess;
  port: number;
  stateDir: string;
  stop(): Promise<void>;
}

/**
 * Starts an agent (extra CLI args pick the engine), sends `keys` and then
 * snapshot v1 as the console's gateway does, and waits for the ack and for
 * the agent to log the ring in use.
 */
export async function startTlsNode(opts: {
  stateDir: string;
  keys: TicketKeyRing;
  snapshot: (port: number) => Snapshot;
  material: readonly TlsMaterial[];
  args?: string[];
}): Promise<TlsNode> {
  const console_ = await startStandInConsole();
  await mkdir(opts.stateDir, { mode: 0o700 });
  await writeFile(join(opts.stateDir, "credential.json"), credentialJson(console_.url), { mode: 0o600 });
  const port = await freePort();
  const agent = spawnAgent(["--console", console_.url, "--state-dir", opts.stateDir, ...(opts.args ?? [])]);
  const ws = await console_.welcomed(30_000).catch((e: unknown) => {
    throw new Error(`${String(e)}\n${agent.stderr()}`);
  });
  const hello = console_.frames.find((f) => f.message.type === "hello")!.message;
  if (!(hello.payload as { capabilities: string[] }).capabilities.includes("tls-ticket-keys")) {
    throw new Error("the agent's hello does not offer tls-ticket-keys");
  }
  console_.ticketKeys(ws, opts.keys);
  console_.push(ws, opts.snapshot(port), opts.material);
  const answer = await console_.answer(1, 30_000);
  if (answer.type !== "ack") throw new Error(`snapshot v1 refused: ${JSON.stringify(answer.payload)}`);
  await agent.waitFor(new RegExp(`ticket keys in use.*generation=${opts.keys.generation}\\b`));
  return {
    console_,
    ws,
    agent,
    port,
    stateDir: opts.stateDir,
    async stop() {
      await agent.stop();
      console_.close();
    },
  };
}
