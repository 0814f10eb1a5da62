import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  AGENT_ENROLL_PATH,
  AGENT_GATEWAY_PATH,
  type AgentMessage,
  decodeAgentMessage,
  encodeConsoleMessage,
  nextMessageId,
  PROTOCOL_VERSION,
  type Snapshot,
  type StatsPoint,
  type TlsMaterial,
} from "@fulcrum/protocol";
import { type WebSocket, WebSocketServer } from "ws";
import { WAIT_MS } from "./agent-process";

export interface StandInOptions {
  /** "hello": welcome each agent as soon as it says hello (default); "manual": only through `welcome(ws)`. */
  welcome?: "hello" | "manual";
  /** The heartbeat interval the welcome asks for (default 1000 ms). */
  heartbeatIntervalMs?: number;
  /** The gateway's frame cap, as the real console sets it (ws closes with 1009 above it). */
  maxPayload?: number;
}

/** A frame the agent sent: when it arrived, its size on the wire and what it said. */
export interface ReceivedFrame {
  at: number;
  bytes: number;
  message: AgentMessage;
}

export interface StandInConsole {
  url: string;
  /** Messages not yet taken by `next`/`answer`, oldest first. */
  inbox: AgentMessage[];
  /** Every frame received, never consumed. */
  frames: ReceivedFrame[];
  /** Every gateway connection, in order. */
  sockets: WebSocket[];
  /** Each connection's close code, in order. */
  closes: number[];
  /** The bodies of enrollment requests. */
  enrolls: unknown[];
  /** Each connection's Authorization header. */
  auth: (string | undefined)[];
  /** When each WebSocket handshake arrived (refused ones too). */
  upgrades: number[];
  connections(): number;
  /** Resolves with the newest socket whose agent said hello. */
  welcomed(ms?: number): Promise<WebSocket>;
  welcome(ws: WebSocket): void;
  /** The next message of this type from the agent (removed from the inbox). */
  next(type: AgentMessage["type"], ms?: number): Promise<AgentMessage>;
  /** The agent's answer (ack or nack) to `version`. */
  answer(version: number, ms?: number): Promise<AgentMessage>;
  /** `tlsMaterial`: sent next to the snapshot, as the console's gateway does for TLS listeners. */
  push(ws: WebSocket, snapshot: Snapshot | unknown, tlsMaterial?: readonly TlsMaterial[]): void;
  /** A `ticketKeys` message with `ring` as its payload, encoded by hand (a malformed ring goes out as is). */
  ticketKeys(ws: WebSocket, ring: unknown): void;
  /** The `stats` messages received since `since` (ms since the epoch), with their arrival times. */
  stats(since?: number): { at: number; points: StatsPoint[] }[];
  waitFor(pred: () => boolean, what: string, ms?: number): Promise<void>;
  /** Refuses the next handshakes with HTTP 429 (and Retry-After), as the console does to an agent that floods it. */
  refuseWith429(retryAfterS: number | undefined): void;
  close(): void;
}

/**
 * A console speaking the real agent protocol over real sockets: enrollment
 * (credential `cred-123` for agent `ag-1` of cluster `c1`), the gateway, and a
 * record of everything the agent sent. The console is another team's process,
 * so this exercises the agent's side of the contract. A frame that does not
 * decode fails the test: the agent must never send one.
 */
export async function startStandInConsole(opts: StandInOptions = {}): Promise<StandInConsole> {
  const heartbeatIntervalMs = opts.heartbeatIntervalMs ?? 1000;
  const inbox: AgentMessage[] = [];
  const frames: ReceivedFrame[] = [];
  const sockets: WebSocket[] = [];
  const helloed: WebSocket[] = [];
  const closes: number[] = [];
  const enrolls: unknown[] = [];
  const auth: (string | undefined)[] = [];
  const upgrades: number[] = [];
  let refusal: string | undefined;

  const http: Server = createServer((req, res) => {
    if (req.method === "POST" && req.url === AGENT_ENROLL_PATH) {
      let body = "";
      req.on("data", (d) => {
        body += d;
      });
      req.on("end", () => {
        enrolls.push(JSON.parse(body));
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ agentId: "ag-1", clusterId: "c1", credential: "cred-123" }));
      });
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  const welcome = (ws: WebSocket) =>
    ws.send(
      encodeConsoleMessage("welcome", {
        agentId: "ag-1",
        clusterId: "c1",
        protocolVersion: 1,
        heartbeatIntervalMs,
      }),
    );
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayload });
  http.on("upgrade", (req, socket, head) => {
    upgrades.push(Date.now());
    if (refusal) {
      socket.end(refusal);
      return;
    }
    if (new URL(req.url ?? "/", "http://stand-in").pathname !== AGENT_GATEWAY_PATH) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.push(ws);
      auth.push(req.headers.authorization);
      ws.on("error", () => {});
      ws.on("close", (code) => closes.push(code));
      ws.on("message", (d) => {
        const raw = d.toString();
        const m = decodeAgentMessage(raw);
        if (!m.ok) throw new Error(`agent sent an invalid frame: ${m.error}`);
        inbox.push(m.message);
        frames.push({ at: Date.now(), bytes: Buffer.byteLength(raw), message: m.message });
        if (m.message.type === "hello") {
          helloed.push(ws);
          if ((opts.welcome ?? "hello") === "hello") welcome(ws);
        }
      });
    });
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));

  const poll = async <T>(what: string, find: () => T | undefined, ms: number): Promise<T> => {
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
    frames,
    sockets,
    closes,
    enrolls,
    auth,
    upgrades,
    connections: () => sockets.length,
    welcomed: (ms = WAIT_MS) => poll("hello", () => helloed.at(-1), ms),
    welcome,
    next: (type, ms = WAIT_MS) => poll(type, () => take((m) => m.type === type), ms),
    answer: (version, ms = WAIT_MS) =>
      poll(
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
    ticketKeys: (ws, ring) => {
      ws.send(
        JSON.stringify({ v: PROTOCOL_VERSION, type: "ticketKeys", id: nextMessageId(), payload: ring }),
      );
    },
    stats: (since = 0) =>
      frames
        .filter((f) => f.message.type === "stats" && f.at >= since)
        .map((f) => ({ at: f.at, points: (f.message.payload as { points: StatsPoint[] }).points })),
    waitFor: async (pred, what, ms = WAIT_MS) => {
      await poll(what, () => (pred() ? true : undefined), ms);
    },
    refuseWith429(retryAfterS) {
      refusal =
        `HTTP/1.1 429 Too Many Requests\r\n${retryAfterS === undefined ? "" : `Retry-After: ${retryAfterS}\r\n`}` +
        "Connection: close\r\nContent-Length: 0\r\n\r\n";
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
