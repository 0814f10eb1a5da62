import {
  type Agent,
  createServer as createHttpServer,
  type IncomingMessage,
  request,
  type Server,
} from "node:http";
import { type AddressInfo, createServer } from "node:net";

/** Binds port 0, reads the port, releases it: good enough for tests on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Closes `server` now: kept-alive connections are dropped rather than waited for. */
export function closeServer(server: {
  closeAllConnections(): void;
  close(cb: () => void): unknown;
}): Promise<void> {
  return new Promise((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });
}

export interface NamedBackend {
  name: string;
  port: number;
  server: Server;
  seen: IncomingMessage[];
  close(): Promise<void>;
}

/** A real HTTP backend answering its own name; echoes request headers in x-seen-* for assertions. */
export async function startBackend(name: string): Promise<NamedBackend> {
  const seen: IncomingMessage[] = [];
  const server = createHttpServer((req, res) => {
    seen.push(req);
    req.resume();
    req.on("end", () => {
      res.setHeader("x-backend", name);
      res.setHeader("x-seen-xff", req.headers["x-forwarded-for"] ?? "");
      res.setHeader("x-seen-proto", req.headers["x-forwarded-proto"] ?? "");
      res.setHeader("x-seen-host", req.headers["x-forwarded-host"] ?? "");
      res.setHeader("x-seen-connection-token", req.headers["x-drop-me"] ?? "");
      res.end(name);
    });
  });
  server.on("clientError", (_e, s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    name,
    port: (server.address() as AddressInfo).port,
    server,
    seen,
    close: () => closeServer(server),
  };
}

export interface Reply {
  status: number;
  headers: IncomingMessage["headers"];
  body: string;
  localPort: number | undefined;
  reusedSocket: boolean;
}

export function get(
  port: number,
  path = "/",
  opts: {
    host?: string;
    agent?: Agent;
    headers?: Record<string, string>;
    /** Source address, e.g. 127.0.0.2 (any 127/8 address is local on Linux): another client IP. */
    localAddress?: string;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        agent: opts.agent ?? false,
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
        headers: { ...(opts.host ? { host: opts.host } : {}), ...opts.headers },
        timeout: 10_000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          body += c;
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            localPort: req.socket?.localPort,
            reusedSocket: req.reusedSocket,
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("test request timed out")));
    req.end();
  });
}
