import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  AGENT_GATEWAY_PATH,
  type AgentMessage,
  decodeAgentMessage,
  encodeConsoleMessage,
  nextMessageId,
  PROTOCOL_VERSION,
  type Snapshot,
  type TlsMaterial,
} from "@fulcrum/protocol";
import { type WebSocket, WebSocketServer } from "ws";

export interface StandInConsole {
  url: string;
  /** Resolves with the agent's socket once it said hello; welcomes it. */
  welcomed(ms?: number): Promise<WebSocket>;
  /** The next message of this type from the agent (removed from the inbox). */
  next(type: AgentMessage["type"], ms?: number): Promise<AgentMessage>;
  /** The agent's answer (ack or nack) to `version`. */
  answer(version: number, ms?: number): Promise<AgentMessage>;
  /** `tlsMaterial`: sent next to the snapshot, as the console's gateway does for TLS listeners. */
  push(ws: WebSocket, snapshot: Snapshot | unknown, tlsMaterial?: readonly TlsMaterial[]): void;
  inbox: AgentMessage[];
  close(): void;
}

/**
 * A console speaking the real agent protocol over real sockets, for an agent
 * that already holds a credential (no enrollment): the console is another
 * team's process, so this exercises the agent's side of the contract.
 */
export async function startStandInConsole(): Promise<StandInConsole> {
  const http: Server = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  const inbox: AgentMessage[] = [];
  const sockets: WebSocket[] = [];
  const wss = new WebSocketServer({ server: http, path: AGENT_GATEWAY_PATH });
  wss.on("connection", (ws) => {
    ws.on("error", () => {});
    ws.on("message", (d) => {
      const m = decodeAgentMessage(d.toString());
      if (!m.ok) return;
      inbox.push(m.message);
      if (m.message.type === "hello") {
        ws.send(
          encodeConsoleMessage("welcome", {
            agentId: "ag-1",
            clusterId: "c1",
            protocolVersion: 1,
            heartbeatIntervalMs: 1000,
          }),
        );
        sockets.push(ws);
      }
    });
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  const wait = async <T>(what: string, find: () => T | undefined, ms: number): Promise<T> => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const v = find();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no ${what} from agent; inbox: ${inbox.map((m) => m.type).join(",")}`);
  };
  const take = (pred: (m: AgentMessage) => boolean) => {
    const i = inbox.findIndex(pred);
    return i === -1 ? undefined : inbox.splice(i, 1)[0];
  };
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    inbox,
    welcomed: (ms = 10_000) => wait("hello", () => sockets.at(-1), ms),
    next: (type, ms = 10_000) => wait(type, () => take((m) => m.type === type), ms),
    answer: (version, ms = 10_000) =>
      wait(
        `ack/nack of v${version}`,
        () =>
          take(
            (m) =>
              (m.type === "ack" || m.type === "nack") &&
              (m.payload as { version: number }).version === version,
          ),
        ms,
      ),
    push: (ws, snapshot, tlsMaterial) => {
      // Encoded by hand: a snapshot the protocol schema refuses still goes out, as a buggy console would send it.
      const payload = tlsMaterial === undefined ? { snapshot } : { snapshot, tlsMaterial };
      ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type: "snapshot", id: nextMessageId(), payload }));
    },
    close: () => {
      for (const s of wss.clients) s.terminate();
      wss.close();
      http.close();
    },
  };
}

/** A credential file, so the agent skips enrollment and goes straight to the console. */
export const credentialJson = (consoleUrl: string) =>
  `${JSON.stringify({ agentId: "ag-1", clusterId: "c1", credential: "cred-123", consoleUrl: new URL(consoleUrl).href })}\n`;
