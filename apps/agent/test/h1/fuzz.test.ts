import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHUNKED_ERROR, CHUNKED_MORE, ChunkedScanner } from "../../src/dataplane/frontends/h1/chunked";
import { HEAD_INCOMPLETE, HeadReader } from "../../src/dataplane/frontends/h1/head-reader";
import { parseRequestHead } from "../../src/dataplane/frontends/h1/request-head";
import type { H1Server } from "../../src/dataplane/frontends/h1/server";
import { type RefMessage, refParse, streamArb } from "./fuzz-reference";
import { FixedPool, raw, startProxy } from "./helpers";

/**
 * Property-based fuzzing of the h1 front end over byte streams (fast-check;
 * a coverage-guided fuzzer such as Jazzer.js needs binaries from GitHub,
 * which this build cannot reach). Short runs here; the long run is
 * `pnpm --filter @fulcrum/agent fuzz:h1` (FUZZ_H1_SECONDS, default 300).
 *
 * Invariants: nothing throws; a head and a chunked body are read the same
 * whatever way the bytes are split; over real sockets, every request a
 * backend receives is, by an independent reference parser, one the client
 * sent with the same method and the same body bytes (no framing the proxy
 * decided differently can reach it); and every refusal closes the connection.
 */

const SECONDS = Number(process.env.FUZZ_H1_SECONDS ?? 0);
/** Time budget per property in ms: a short run by default (the suite's), FUZZ_H1_SECONDS split over both. */
const SOCKET_MS = SECONDS > 0 ? SECONDS * 800 : 12_000;
const PARSER_MS = SECONDS > 0 ? SECONDS * 200 : 4_000;
const seed = process.env.FUZZ_H1_SEED === undefined ? undefined : Number(process.env.FUZZ_H1_SEED);
const runOpts = (ms: number) => ({
  numRuns: 1_000_000,
  interruptAfterTimeLimit: ms,
  markInterruptAsFailure: false,
  ...(seed === undefined ? {} : { seed }),
});

const bytesOf = (pieces: string[]) => pieces.map((p) => Buffer.from(p, "latin1"));

/** Reads one head from pieces; the result (head end and parse outcome) as a comparable string. */
function headOutcome(pieces: Buffer[]): string {
  const r = new HeadReader(16_384);
  let fed = 0;
  for (const piece of pieces) {
    fed += piece.length;
    const end = r.push(piece);
    if (end === HEAD_INCOMPLETE) continue;
    if (end < 0) return `error ${end}`;
    const h = parseRequestHead(r.buf, r.start, end);
    if ("status" in h) return `refused ${h.status} ${h.reason}`;
    // Where the head ends in the whole stream (r.buf ends where the bytes fed so far end).
    const at = fed - (r.buf.length - end);
    return JSON.stringify([h.method, h.target, h.host, h.bodyKind, h.contentLength, h.close, h.upgrade, at]);
  }
  return "incomplete";
}

/** Where a chunked body in pieces ends (offset in the joined bytes), or its error / incompleteness. */
function chunkedOutcome(pieces: Buffer[]): string {
  const s = new ChunkedScanner(16_384);
  let base = 0;
  for (const piece of pieces) {
    const r = s.scan(piece, 0, piece.length);
    if (r === CHUNKED_ERROR) return "error";
    if (r !== CHUNKED_MORE) return `end ${base + r}`;
    base += piece.length;
  }
  return "more";
}

describe("h1 parser fuzzing", () => {
  it(
    "never throws, and reads heads and chunked bodies the same whatever the split",
    () => {
      fc.assert(
        fc.property(
          streamArb,
          fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 12 }),
          (pieces, cuts) => {
            const whole = Buffer.from(pieces.join(""), "latin1");
            const split: Buffer[] = [];
            let p = 0;
            for (const c of cuts) {
              if (p >= whole.length) break;
              split.push(whole.subarray(p, p + c));
              p += c;
            }
            if (p < whole.length) split.push(whole.subarray(p));
            expect(headOutcome(split)).toBe(headOutcome([whole]));
            // The same bytes as a chunked body (most are not): the scanner must agree with itself.
            expect(chunkedOutcome(split)).toBe(chunkedOutcome([whole]));
            expect(chunkedOutcome(bytesOf(pieces))).toBe(chunkedOutcome([whole]));
          },
        ),
        runOpts(PARSER_MS),
      );
    },
    PARSER_MS + 10_000,
  );
});

/** A raw backend reading requests with the reference parser, answering each with an empty 200. */
interface Recorder {
  server: Server;
  port: number;
  received: RefMessage[];
  errors: string[];
}

async function startRecorder(): Promise<Recorder> {
  const rec: Recorder = { server: undefined as unknown as Server, port: 0, received: [], errors: [] };
  rec.server = createServer((s: Socket) => {
    s.on("error", () => {});
    let buf = "";
    s.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      const r = refParse(buf);
      for (const m of r.messages) {
        rec.received.push(m);
        s.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
      }
      if (r.error !== undefined) {
        rec.errors.push(`${r.error} in ${JSON.stringify(r.rest.slice(0, 200))}`);
        s.destroy();
        return;
      }
      buf = r.rest;
    });
  });
  await new Promise<void>((r) => rec.server.listen(0, "127.0.0.1", r));
  rec.port = (rec.server.address() as AddressInfo).port;
  return rec;
}

/** Sends the pieces (one per turn), half-closes, and collects the answer until the proxy closes. */
function exchange(port: number, pieces: string[]): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    let text = "";
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(() => finish(false), 5000);
    s.on("error", () => {});
    s.on("data", (d: Buffer) => {
      text += d.toString("latin1");
    });
    s.on("close", () => finish(true));
    (async () => {
      for (const p of pieces) {
        if (s.destroyed) return;
        s.write(Buffer.from(p, "latin1"));
        await new Promise((r) => setImmediate(r));
      }
      if (!s.destroyed) s.end();
    })();
  });
}

const REFUSALS =
  /x-fulcrum-reason: (bad-request|head-too-large|head-timeout|body-too-large|body-timeout|body-too-slow|unsupported-transfer-coding)/g;

describe("h1 front end fuzzing over real sockets", () => {
  let rec: Recorder;
  let h1: H1Server;
  let port: number;

  beforeAll(async () => {
    rec = await startRecorder();
    ({ h1, port } = await startProxy(new FixedPool([rec.port]), {
      maxBodyBytes: 64,
      minBodyBytesPerSecond: 0,
      timeouts: { headMs: 3000, bodyMs: 3000, responseMs: 3000 },
    }));
  });
  afterAll(async () => {
    await h1.close(0);
    rec.server.close();
  });

  it(
    "forwards only requests the client sent, framed as sent, and closes after every refusal",
    async () => {
      let cases = 0;
      await fc.assert(
        fc.asyncProperty(streamArb, async (pieces) => {
          cases++;
          rec.received.length = 0;
          rec.errors.length = 0;
          const client = refParse(pieces.join(""));
          const r = await exchange(port, pieces);
          // Anything the proxy forwarded after the client's bytes settles within a few turns.
          await new Promise((res) => setTimeout(res, 5));
          expect(rec.errors, "the backend could not frame what the proxy sent").toEqual([]);
          // Each received message is the next matching client message: same method, same body bytes.
          let next = 0;
          for (const m of rec.received) {
            while (
              next < client.messages.length &&
              !(client.messages[next]!.method === m.method && client.messages[next]!.body === m.body)
            )
              next++;
            expect(
              next,
              `backend got ${JSON.stringify(m)}; client sent ${JSON.stringify(client.messages)}`,
            ).toBeLessThan(client.messages.length);
            next++;
          }
          const refusals = [...r.text.matchAll(REFUSALS)];
          if (refusals.length > 0) {
            const last = refusals.at(-1)!;
            expect(refusals).toHaveLength(1);
            // The refusal is the last answer on the connection, and the connection is closed.
            expect(r.text.indexOf("HTTP/1.1 ", last.index)).toBe(-1);
            expect(r.closed).toBe(true);
          }
        }),
        runOpts(SOCKET_MS),
      );
      console.log(`h1 socket fuzz: ${cases} streams`);
      expect(cases).toBeGreaterThan(10);
      // The listener still serves.
      const ok = await raw(port, "GET /after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
      expect(ok.text).toMatch(/^HTTP\/1\.1 200 /);
    },
    SOCKET_MS + 20_000,
  );
});
