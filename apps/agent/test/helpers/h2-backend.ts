import {
  createSecureServer,
  createServer,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import type { AddressInfo } from "node:net";
import type { TestCertificate } from "./certs";

/** What an HTTP/2 test backend saw of one request (GET /echo answers it as JSON). */
export interface SeenH2 {
  name: string;
  method: string;
  path: string;
  authority: string;
  scheme: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  trailers: Record<string, string | string[] | undefined> | null;
}

export interface H2Backend {
  readonly name: string;
  readonly port: number;
  /** Sessions (connections) accepted, streams seen, sessions now open. */
  readonly sessions: number;
  readonly streams: number;
  readonly open: number;
  /** Sends GOAWAY on every open session (streams in progress finish). */
  goawayAll(): void;
  close(): Promise<void>;
}

/**
 * A real node:http2 backend, h2c (prior knowledge) or TLS with ALPN h2:
 * `/echo` answers what it saw (with a trailer `x-backend: name`),
 * `/slow?ms=N` answers after N ms, `/stream?n=N` sends N chunks 20 ms
 * apart, anything else 200 "name".
 */
export async function startH2Backend(
  name: string,
  opts: { cert?: TestCertificate; maxConcurrentStreams?: number } = {},
): Promise<H2Backend> {
  const settings = opts.maxConcurrentStreams ? { maxConcurrentStreams: opts.maxConcurrentStreams } : {};
  const server: Http2Server = opts.cert
    ? (createSecureServer({
        cert: opts.cert.material.chainPem,
        key: opts.cert.material.keyPem,
        settings,
      }) as unknown as Http2Server)
    : createServer({ settings });
  let sessions = 0;
  let streams = 0;
  const live = new Set<Http2Session>();
  server.on("session", (s: Http2Session) => {
    sessions++;
    live.add(s);
    s.on("error", () => {});
    s.on("close", () => live.delete(s));
  });
  server.on("stream", (stream: ServerHttp2Stream, h: IncomingHttpHeaders) => {
    streams++;
    stream.on("error", () => {});
    const url = new URL(String(h[":path"]), "http://x");
    const chunks: Buffer[] = [];
    let trailers: SeenH2["trailers"] = null;
    stream.on("trailers", (t: IncomingHttpHeaders) => {
      trailers = { ...t };
    });
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      if (stream.destroyed) return;
      if (url.pathname === "/echo") {
        const seen: SeenH2 = {
          name,
          method: String(h[":method"]),
          path: String(h[":path"]),
          authority: String(h[":authority"]),
          scheme: String(h[":scheme"]),
          headers: Object.fromEntries(Object.entries(h).filter(([k]) => !k.startsWith(":"))),
          body: Buffer.concat(chunks).toString(),
          trailers,
        };
        stream.respond({ ":status": 200, "content-type": "application/json" }, { waitForTrailers: true });
        stream.once("wantTrailers", () => stream.sendTrailers({ "x-backend": name }));
        stream.end(JSON.stringify(seen));
        return;
      }
      if (url.pathname === "/slow") {
        const t = setTimeout(
          () => {
            if (stream.destroyed) return;
            stream.respond({ ":status": 200 });
            stream.end(name);
          },
          Number(url.searchParams.get("ms") ?? 100),
        );
        stream.once("close", () => clearTimeout(t));
        return;
      }
      if (url.pathname === "/stream") {
        stream.respond({ ":status": 200 });
        let n = Number(url.searchParams.get("n") ?? 5);
        const tick = setInterval(() => {
          if (stream.destroyed) return clearInterval(tick);
          stream.write(`${name}-${n}\n`);
          if (--n === 0) {
            clearInterval(tick);
            stream.end();
          }
        }, 20);
        return;
      }
      stream.respond({ ":status": 200 });
      stream.end(name);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    port,
    get sessions() {
      return sessions;
    },
    get streams() {
      return streams;
    },
    get open() {
      return live.size;
    },
    goawayAll() {
      for (const s of live) s.goaway();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of live) s.destroy();
        server.close(() => r());
      }),
  };
}
