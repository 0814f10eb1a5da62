import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { HealthEvent } from "@fulcrum/protocol";
import { closeServer } from "./net";

/**
 * A real HTTP backend whose behaviour tests can change while it runs:
 * `/health` answers `healthStatus`; `/slow` is held until release(); anything
 * else answers `status` with the backend's name.
 */
export interface CtlBackend {
  name: string;
  port: number;
  server: Server;
  /** Requests other than /health. */
  hits: number;
  healthChecks: number;
  healthStatus: number;
  status: number;
  readonly held: number;
  release(): void;
  close(): Promise<void>;
}

export async function startCtlBackend(name: string, port = 0): Promise<CtlBackend> {
  const pending: ServerResponse[] = [];
  const b = { name, hits: 0, healthChecks: 0, healthStatus: 200, status: 200 } as CtlBackend;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on("end", () => {
      if (req.url?.startsWith("/health")) {
        b.healthChecks++;
        res.writeHead(b.healthStatus, { "content-type": "text/plain" });
        res.end(b.healthStatus < 400 ? "healthy" : "sick");
        return;
      }
      b.hits++;
      res.setHeader("x-backend", name);
      if (req.url?.startsWith("/slow")) {
        pending.push(res);
        return;
      }
      res.writeHead(b.status);
      res.end(name);
    });
  });
  server.on("clientError", (_e, s) => s.destroy());
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  b.server = server;
  b.port = (server.address() as AddressInfo).port;
  Object.defineProperty(b, "held", { get: () => pending.length });
  b.release = () => {
    for (const res of pending.splice(0)) {
      res.writeHead(b.status);
      res.end(name);
    }
  };
  b.close = () =>
    new Promise((r) => {
      for (const res of pending.splice(0)) res.destroy();
      server.closeAllConnections();
      server.close(() => r());
    });
  return b;
}

/**
 * A real HTTP backend for balancing tests: answers its name with `status`
 * after `delayMs` (0: at once), counting `hits`, `inFlight` and its peak
 * `maxInFlight`; `/health` answers `healthStatus` and counts `healthHits`.
 */
export interface DelayBackend {
  name: string;
  port: number;
  delayMs: number;
  status: number;
  healthStatus: number;
  hits: number;
  healthHits: number;
  inFlight: number;
  maxInFlight: number;
  close(): Promise<void>;
}

export async function startDelayBackend(name: string): Promise<DelayBackend> {
  const b = {
    name,
    delayMs: 0,
    status: 200,
    healthStatus: 200,
    hits: 0,
    healthHits: 0,
    inFlight: 0,
    maxInFlight: 0,
  } as DelayBackend;
  const server = createServer((req, res) => {
    req.resume();
    if (req.url?.startsWith("/health")) {
      b.healthHits++;
      res.writeHead(b.healthStatus);
      res.end();
      return;
    }
    b.hits++;
    b.inFlight++;
    b.maxInFlight = Math.max(b.maxInFlight, b.inFlight);
    const answer = () => {
      b.inFlight--;
      res.writeHead(b.status, { "content-type": "text/plain" });
      res.end(name);
    };
    if (b.delayMs > 0) setTimeout(answer, b.delayMs);
    else answer();
  });
  server.on("clientError", (_e, s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  b.port = (server.address() as AddressInfo).port;
  b.close = () => closeServer(server);
  return b;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` is true or the time is up; returns whether it became true. */
export async function until(check: () => boolean, ms: number, stepMs = 10): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await sleep(stepMs);
  }
  return check();
}

export function collectEvents(subscribe: (fn: (e: HealthEvent) => void) => () => void): {
  events: HealthEvent[];
  stop: () => void;
} {
  const events: HealthEvent[] = [];
  const stop = subscribe((e) => events.push(e));
  return { events, stop };
}

export function countBy<T>(xs: readonly T[]): Map<T, number> {
  const m = new Map<T, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}
