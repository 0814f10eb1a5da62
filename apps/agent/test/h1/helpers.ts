import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import type { AcquireResult, Lease, Outcome, PoolHandle, RequestFacts } from "../../src/dataplane/exchange";
import { DEFAULT_H1_OPTIONS, type H1Options } from "../../src/dataplane/frontends/h1/options";
import { H1Server } from "../../src/dataplane/frontends/h1/server";
import type { PoolRuntime } from "../../src/dataplane/pools/pool-runtime";
import { RouteTable } from "../../src/dataplane/pools/route-table";
import { silentLogger } from "../../src/log";
import { closeServer } from "../helpers/net";

/** A fixed PoolHandle over given ports: round robin, records every outcome. */
export class FixedPool implements PoolHandle {
  readonly id = "p1";
  readonly name = "fixed";
  readonly outcomes: Outcome[] = [];
  private next = 0;
  retries = 1;
  constructor(public ports: number[]) {}
  acquire(_f: RequestFacts, opts?: { exclude?: ReadonlySet<string> }): Promise<AcquireResult> {
    return Promise.resolve(this.leaseNow(opts?.exclude));
  }
  /** The next port's lease, at once. */
  leaseNow(exclude?: ReadonlySet<string>): AcquireResult {
    for (let i = 0; i < this.ports.length; i++) {
      const port = this.ports[this.next++ % this.ports.length]!;
      const key = `127.0.0.1:${port}`;
      if (exclude?.has(key)) continue;
      const lease: Lease = {
        backend: { id: `b${port}`, address: "127.0.0.1", port, key, tls: undefined, connKey: key },
        responseHeaders: [["x-lease", "1"]],
        finish: (o) => {
          this.outcomes.push(o);
        },
      };
      return { ok: true, lease };
    }
    return { ok: false, reason: "no-backend" };
  }
  mayRetry(attempt: number): boolean {
    return attempt <= this.retries;
  }
}

export async function startProxy(
  pool: PoolHandle,
  over: Partial<Omit<H1Options, "timeouts">> & { timeouts?: Partial<H1Options["timeouts"]> } = {},
): Promise<{ h1: H1Server; port: number }> {
  const table = new RouteTable([
    { id: "r1", host: "", pathPrefix: "/", priority: 0, pool: pool as unknown as PoolRuntime },
  ]);
  const opts = {
    ...DEFAULT_H1_OPTIONS,
    ...over,
    timeouts: { ...DEFAULT_H1_OPTIONS.timeouts, ...over.timeouts },
  };
  const h1 = new H1Server(table, opts, silentLogger);
  await h1.listen("127.0.0.1", 0);
  return { h1, port: h1.address().port };
}

export interface Backend {
  server: Server;
  port: number;
  requests: number;
  connections: number;
  close(): Promise<void>;
}

export async function startHttpBackend(
  handler: (req: IncomingMessage, res: ServerResponse) => void = (req, res) => {
    req.resume();
    req.on("end", () => res.end(`ok ${req.method} ${req.url}`));
  },
): Promise<Backend> {
  const b = {} as Backend;
  b.requests = 0;
  b.connections = 0;
  const server = createHttpServer((req, res) => {
    b.requests++;
    handler(req, res);
  });
  server.on("connection", () => b.connections++);
  server.on("clientError", (_e, s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  b.server = server;
  b.port = (server.address() as AddressInfo).port;
  b.close = () => closeServer(server);
  return b;
}

export interface RawResult {
  text: string;
  closed: boolean;
}

/**
 * Sends bytes over a fresh socket; resolves when `done(text)` holds, the
 * peer closes, or after `ms`. Reports whether the connection was closed.
 */
export function raw(
  port: number,
  data: string | Buffer | (string | Buffer)[],
  opts: { done?: (text: string) => boolean; ms?: number; gapMs?: number } = {},
): Promise<RawResult> {
  return new Promise((resolve) => {
    const s: Socket = connect(port, "127.0.0.1");
    let text = "";
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(() => finish(false), opts.ms ?? 2000);
    s.on("error", () => {});
    s.on("data", (c) => {
      text += c.toString("latin1");
      if (opts.done?.(text)) finish(false);
    });
    s.on("end", () => finish(true));
    s.on("close", () => finish(true));
    const parts = Array.isArray(data) ? data : [data];
    (async () => {
      for (const p of parts) {
        if (s.destroyed) return;
        s.write(p);
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
    })();
  });
}

/** Number of complete HTTP responses' status lines in a text. */
export const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
