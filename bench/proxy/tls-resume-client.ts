/**
 * Resumed-handshake load for bench/proxy/tls.ts (issue 16): `concurrency`
 * loops, each opening a new TLS connection per request (GET /, Connection:
 * close) that offers the session ticket its previous connection received, so
 * every handshake after a loop's first one is an abbreviated one. wrk and
 * h2load --h1 never resume, so the bench uses this one client for all
 * targets. Run as a child process (its own event loop and CPU):
 *   tsx proxy/tls-resume-client.ts PORT SERVERNAME SECONDS CONCURRENCY
 * Prints one JSON line (ResumeResult) on stdout.
 */
import { connect, type TLSSocket } from "node:tls";

export interface ResumeResult {
  readonly seconds: number;
  /** Requests answered with a 2xx status. */
  readonly ok: number;
  /** Of those, how many rode a resumed session (the rest had full handshakes). */
  readonly resumed: number;
  readonly errors: number;
  readonly non2xx: number;
}

const REQUEST = Buffer.from("GET / HTTP/1.1\r\nHost: bench.test\r\nConnection: close\r\n\r\n");

/** One request on a new connection; resolves with its status (0: failed) and the session to offer next. */
function once(
  port: number,
  servername: string,
  session: Buffer | undefined,
): Promise<{ status: number; reused: boolean; session: Buffer | undefined }> {
  return new Promise((resolve) => {
    let next = session;
    let head = "";
    let reused = false;
    const s: TLSSocket = connect({
      host: "127.0.0.1",
      port,
      servername,
      session,
      rejectUnauthorized: false,
      ALPNProtocols: ["http/1.1"],
    });
    s.on("session", (t: Buffer) => {
      next = t;
    });
    s.once("secureConnect", () => {
      // Asked now: once the socket is closed its TLS state is gone and this reads false.
      reused = s.isSessionReused();
      s.write(REQUEST);
    });
    s.on("data", (d: Buffer) => {
      if (head.length < 12) head += d.toString("latin1", 0, Math.min(d.length, 12));
    });
    s.once("error", () => undefined);
    s.once("close", () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      resolve({ status: m ? Number(m[1]) : 0, reused, session: next });
    });
  });
}

async function main(): Promise<void> {
  const [portArg, servername = "bench.test", secondsArg = "5", concurrencyArg = "16"] = process.argv.slice(2);
  const port = Number(portArg);
  const seconds = Number(secondsArg);
  const concurrency = Number(concurrencyArg);
  if (!Number.isInteger(port) || !(seconds > 0) || !(concurrency > 0)) {
    throw new Error("usage: tls-resume-client.ts PORT SERVERNAME SECONDS CONCURRENCY");
  }
  let ok = 0;
  let resumed = 0;
  let errors = 0;
  let non2xx = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const loop = async () => {
    let session: Buffer | undefined;
    while (performance.now() < end) {
      const r = await once(port, servername, session);
      session = r.session;
      if (r.status === 0) errors++;
      else if (r.status >= 200 && r.status < 300) {
        ok++;
        if (r.reused) resumed++;
      } else non2xx++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const result: ResumeResult = { seconds: (performance.now() - t0) / 1000, ok, resumed, errors, non2xx };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
