import {
  AGENT_ENROLL_PATH,
  AGENT_GATEWAY_PATH,
  type AgentPayload,
  type ConsoleMessage,
  decodeConsoleMessage,
  encodeAgentMessage,
  enrollResponseSchema,
  type HealthEvent,
  type StatsPoint,
} from "@fulcrum/protocol";
import WebSocket from "ws";
import type { RunningConsole } from "../../src/server/start";
import { actors, callerAs } from "./console";

/**
 * A simulated agent over a real WebSocket: enrolls through the HTTP endpoint,
 * says hello, acks (or nacks) snapshots and sends `stats` messages.
 */
export interface FakeAgent {
  id: string;
  name: string;
  received: ConsoleMessage[];
  /** What to answer to the next snapshots. */
  answer: { kind: "ack" } | { kind: "nack"; reason: string };
  stats(points: StatsPoint[]): void;
  health(events: HealthEvent[]): void;
  /** Sends a heartbeat with this payload as it is (unchecked: tests send hostile ones too). */
  heartbeat(payload: unknown): void;
  close(): Promise<void>;
}

export async function connectFakeAgent(
  c: RunningConsole & { url: string },
  clusterId: string,
  name: string,
  /** Hello capabilities, e.g. "tls-ticket-keys" to be sent the cluster's ticket-key ring. */
  capabilities: string[] = [],
): Promise<FakeAgent> {
  const token = await callerAs(c, actors.admin).agent.createEnrollmentToken({ clusterId });
  const res = await fetch(`${c.url}${AGENT_ENROLL_PATH}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: token.secret, name }),
  });
  if (res.status !== 200) throw new Error(`enroll failed: ${res.status} ${await res.text()}`);
  const enrolled = enrollResponseSchema.parse(await res.json());
  const ws = new WebSocket(`${c.url.replace(/^http/, "ws")}${AGENT_GATEWAY_PATH}`, {
    headers: { authorization: `Bearer ${enrolled.credential}` },
  });
  const received: ConsoleMessage[] = [];
  const agent: FakeAgent = {
    id: enrolled.agentId,
    name,
    received,
    answer: { kind: "ack" },
    stats(points) {
      ws.send(encodeAgentMessage("stats", { points }));
    },
    health(events) {
      ws.send(encodeAgentMessage("health", { events }));
    },
    heartbeat(payload) {
      ws.send(encodeAgentMessage("heartbeat", payload as AgentPayload<"heartbeat">));
    },
    async close() {
      if (ws.readyState === ws.CLOSED) return;
      await new Promise<void>((resolve) => {
        ws.once("close", () => resolve());
        ws.close();
      });
    },
  };
  const welcomed = new Promise<void>((resolve, reject) => {
    ws.on("error", reject);
    ws.on("message", (data) => {
      const decoded = decodeConsoleMessage(data.toString());
      if (!decoded.ok) return;
      const msg = decoded.message;
      received.push(msg);
      if (msg.type === "welcome") resolve();
      if (msg.type === "snapshot") {
        const { version, hash } = msg.payload.snapshot;
        ws.send(
          agent.answer.kind === "ack"
            ? encodeAgentMessage("ack", { version, hash })
            : encodeAgentMessage("nack", { version, reason: agent.answer.reason }),
        );
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  ws.send(
    encodeAgentMessage("hello", {
      name,
      softwareVersion: "fake-1",
      protocolVersions: [1],
      capabilities,
      appliedVersion: null,
      appliedHash: null,
    }),
  );
  await welcomed;
  return agent;
}
