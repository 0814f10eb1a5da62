import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  MAX_HEADER_PAIRS,
  MAX_INVALID_FRAMES,
  MAX_SETTINGS_ENTRIES,
} from "../../src/dataplane/frontends/h2/h2-options";
import { NodeEngine } from "../../src/engines/builtin/node-engine";
import { silentLogger } from "../../src/log";
import { sleep } from "../helpers/backends";
import { closeSession, h2Request, h2Session } from "../helpers/h2-client";
import {
  E,
  F,
  frame,
  indexed,
  indexedLiteral,
  literal,
  rawH2,
  requestBlock,
  rstStream,
  settings,
  T,
} from "../helpers/h2-frames";
import { freePort } from "../helpers/net";
import { backend, httpListener, makeSnapshot } from "../helpers/snapshot";

/*
 * The known HTTP/2 attacks against the builtin engine's h2c listener, each
 * written frame by frame (helpers/h2-frames.ts): the offending connection is
 * closed (or its stream refused) with the right error code, backends see a
 * bounded number of requests, and another client on the same listener is
 * served throughout.
 */

let backendPort: number;
let server: Server;
/** Requests the backend saw (counted at their head). */
let requests = 0;
const held: ServerResponse[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    req.resume();
    if (req.url === "/big") {
      res.writeHead(200, { "content-length": String(4 << 20) });
      res.end(Buffer.alloc(4 << 20, 120));
      return;
    }
    if (req.url === "/slow") {
      held.push(res);
      return;
    }
    req.on("end", () => res.end("ok"));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  backendPort = (server.address() as AddressInfo).port;
});
afterAll(() => {
  for (const r of held.splice(0)) r.destroy();
  server.closeAllConnections();
  server.close();
});

let engine: NodeEngine;
let port: number;
beforeEach(async () => {
  requests = 0;
  engine = new NodeEngine({ log: silentLogger, timeouts: { drainGraceMs: 200 } });
  port = await freePort();
});
afterEach(async () => {
  for (const r of held.splice(0)) r.destroy();
  await engine.stop();
});

async function serve(http2: Record<string, unknown> = {}, settingsOver: Record<string, unknown> = {}) {
  await engine.apply(
    makeSnapshot(
      1,
      [httpListener(port, { http2: { h2c: true, ...http2 }, settings: settingsOver as never })],
      [backend("a", backendPort)],
    ),
  );
}

/** Another client on the same listener is served. */
async function othersServed(): Promise<void> {
  const s = h2Session(`http://127.0.0.1:${port}`);
  try {
    expect((await h2Request(s, { ":path": "/", ":authority": "x" })).status).toBe(200);
  } finally {
    await closeSession(s);
  }
}

const headers = (stream: number, block: Buffer, flags = F.END_HEADERS | F.END_STREAM) =>
  frame(T.HEADERS, flags, stream, block);

describe("HTTP/2 defences", () => {
  it("advertises the listener's limits in its SETTINGS", async () => {
    await serve({ maxConcurrentStreams: 7, maxHeaderListBytes: 8192, initialWindowBytes: 131_072 });
    const c = await rawH2(port);
    expect(await c.waitFor(() => c.frames.some((f) => f.type === T.SETTINGS && f.flags === 0))).toBe(true);
    const p = c.frames.find((f) => f.type === T.SETTINGS && f.flags === 0)!.payload;
    const got = new Map<number, number>();
    for (let i = 0; i < p.length; i += 6) got.set(p.readUInt16BE(i), p.readUInt32BE(i + 2));
    // 2 ENABLE_PUSH, 3 MAX_CONCURRENT_STREAMS, 4 INITIAL_WINDOW_SIZE, 6 MAX_HEADER_LIST_SIZE.
    expect([got.get(2), got.get(3), got.get(4), got.get(6)]).toEqual([0, 7, 131_072, 8192]);
    c.socket.destroy();
  });

  it("rapid reset: streams opened and cancelled at once end the session with ENHANCE_YOUR_CALM; backends see a bounded number", async () => {
    await serve({ maxConcurrentStreams: 10 });
    const c = await rawH2(port);
    // 300 HEADERS+RST_STREAM pairs: below nghttp2's own reset limit (1000), so only our guard acts.
    for (let i = 0; i < 300 && !c.isClosed(); i++) {
      const id = 1 + 2 * i;
      c.write(Buffer.concat([headers(id, requestBlock("/")), rstStream(id, E.CANCEL)]));
      if (i % 20 === 19) await new Promise((r) => setImmediate(r));
    }
    expect(await c.waitFor(() => c.goaway() !== undefined)).toBe(true);
    expect(c.goaway()).toBe(E.ENHANCE_YOUR_CALM);
    await c.closed;
    await sleep(300);
    // The guard's burst is 2 × maxConcurrentStreams (20); most cancelled streams never reach a backend at all.
    expect(requests).toBeLessThanOrEqual(25);
    await othersServed();
  });

  // nghttp2 (Node ≥ 20.12) bounds CONTINUATION frames per header block itself; no setting of ours is involved.
  it.each([
    ["empty frames", (_i: number) => Buffer.alloc(0)],
    ["a field each", (i: number) => literal(`x-f${i}`, "v")],
  ])(
    "CONTINUATION flood (%s): a header block that never ends closes the connection within a bounded number of frames",
    async (_name, payload) => {
      await serve();
      const c = await rawH2(port);
      c.write(headers(1, requestBlock("/"), 0));
      let sent = 0;
      for (; sent < 20_000 && !c.isClosed(); sent++) {
        c.write(frame(T.CONTINUATION, 0, 1, payload(sent)));
        if (sent % 100 === 99) await new Promise((r) => setImmediate(r));
      }
      await c.waitFor(() => c.isClosed());
      expect(c.isClosed()).toBe(true);
      expect(c.goaway()).toBeDefined();
      expect(sent).toBeLessThanOrEqual(1000);
      expect(requests).toBe(0);
      await othersServed();
    },
  );

  it.each([
    ["after the client ACKed our SETTINGS (nghttp2 enforces them)", true],
    ["from a client that never ACKs them (our own check)", false],
  ])(
    "HPACK bomb %s: a header list decoding past maxHeaderListBytes is refused before any backend sees it",
    async (_name, ack) => {
      await serve({ maxHeaderListBytes: 8192 });
      const c = await rawH2(port, { ackSettings: ack });
      if (ack) await c.waitFor(() => false, 200);
      // 3 KB enters the dynamic table once, then 10 one-byte references: 30 KB decoded from ~3 KB sent.
      const bomb = Buffer.concat([
        requestBlock("/"),
        indexedLiteral("x-bomb", "b".repeat(3000)),
        ...Array.from({ length: 10 }, () => indexed(62)),
      ]);
      c.write(headers(1, bomb));
      expect(await c.waitFor(() => c.resets().has(1))).toBe(true);
      expect(c.resets().get(1)).toBe(E.ENHANCE_YOUR_CALM);
      expect(c.answered().has(1)).toBe(false);
      expect(requests).toBe(0);
      c.socket.destroy();
      // The same list under the limit passes: the limit, not the shape, refused it.
      const ok = await rawH2(port);
      ok.write(
        headers(
          1,
          Buffer.concat([requestBlock("/"), indexedLiteral("x-bomb", "b".repeat(3000)), indexed(62)]),
        ),
      );
      expect(await ok.waitFor(() => ok.answered().has(1))).toBe(true);
      ok.socket.destroy();
    },
  );

  it(`refuses a header block of more than ${MAX_HEADER_PAIRS} fields`, async () => {
    await serve();
    const c = await rawH2(port);
    const many = Array.from({ length: MAX_HEADER_PAIRS + 10 }, (_, i): [string, string] => [`x-${i}`, "1"]);
    c.write(headers(1, requestBlock("/", many)));
    expect(await c.waitFor(() => c.resets().has(1) || c.isClosed())).toBe(true);
    expect(c.answered().has(1)).toBe(false);
    expect(requests).toBe(0);
    c.socket.destroy();
  });

  // Each PING and SETTINGS frame owes an ACK; nghttp2 ends a session whose client lets more than
  // 1,000 queue unread (its max_outbound_ack, not a Node option). The unread GOAWAY is lost with the
  // reset, so the test reads the close and how much the client got to send.
  it.each([
    ["PING", frame(T.PING, 0, 0, Buffer.alloc(8))],
    ["SETTINGS", settings([[4, 65_535]])],
  ])(
    "%s flood from a client that does not read: the session ends after a bounded number of frames",
    async (_name, one) => {
      await serve();
      const c = await rawH2(port);
      await c.waitFor(() => false, 200);
      c.socket.pause();
      const batch = Buffer.concat(Array.from({ length: 1000 }, () => one));
      let batches = 0;
      for (; batches < 500 && !c.isClosed(); batches++) {
        c.write(batch);
        await sleep(2);
      }
      c.socket.resume();
      expect(await c.waitFor(() => c.isClosed())).toBe(true);
      expect(batches).toBeLessThan(100);
      await othersServed();
    },
  );

  it(`a SETTINGS frame of more than ${MAX_SETTINGS_ENTRIES} entries ends the session`, async () => {
    await serve();
    const c = await rawH2(port);
    c.write(
      settings(Array.from({ length: MAX_SETTINGS_ENTRIES + 4 }, () => [4, 65_535] as [number, number])),
    );
    expect(await c.waitFor(() => c.goaway() !== undefined)).toBe(true);
    expect(c.goaway()).toBe(E.ENHANCE_YOUR_CALM);
    c.socket.destroy();
  });

  it.each([
    // The whole (small) response is with the proxy: only the stream's own idle timer can end it.
    ["a small response", "/", E.CANCEL],
    // The backend's body stalls too: the upstream idle timeout cuts it, and the stream with it.
    ["a large response", "/big", E.INTERNAL_ERROR],
  ])(
    "zero-window reader of %s: the stream is reset after the listener's idle timeout",
    async (_name, path, code) => {
      await serve({}, { timeouts: { idleMs: 600 } });
      // SETTINGS_INITIAL_WINDOW_SIZE 0: the proxy may send no DATA at all.
      const c = await rawH2(port, { initial: [[4, 0]] });
      c.write(headers(1, requestBlock(path)));
      expect(await c.waitFor(() => c.answered().has(1))).toBe(true);
      expect(await c.waitFor(() => c.resets().has(1), 5000)).toBe(true);
      expect(c.resets().get(1)).toBe(code);
      c.socket.destroy();
      await othersServed();
    },
  );

  /** Streams held open: POST without END_STREAM, the request body never ends. */
  const openStreams = (c: Awaited<ReturnType<typeof rawH2>>, from: number, to: number) => {
    for (let i = from; i < to; i++)
      c.write(headers(1 + 2 * i, requestBlock("/slow", [], "POST"), F.END_HEADERS));
  };

  it(`too many streams before the client ACKed our SETTINGS: REFUSED_STREAM each; past ${MAX_INVALID_FRAMES} the session ends`, async () => {
    await serve({ maxConcurrentStreams: 5 });
    const c = await rawH2(port, { ackSettings: false });
    openStreams(c, 0, 8);
    expect(await c.waitFor(() => c.resets().size >= 3)).toBe(true);
    expect([...c.resets()]).toEqual([
      [11, E.REFUSED_STREAM],
      [13, E.REFUSED_STREAM],
      [15, E.REFUSED_STREAM],
    ]);
    // nghttp2 counts each refused stream as an invalid frame (maxSessionInvalidFrames).
    let sent = 8;
    for (; sent < 1200 && !c.isClosed(); sent += 10) {
      openStreams(c, sent, sent + 10);
      await sleep(5);
    }
    expect(await c.waitFor(() => c.isClosed())).toBe(true);
    expect(sent).toBeLessThanOrEqual(5 + MAX_INVALID_FRAMES + 100);
  });

  it("too many streams after the client ACKed our SETTINGS: nghttp2 ends the session (a connection error)", async () => {
    await serve({ maxConcurrentStreams: 5 });
    const c = await rawH2(port);
    await c.waitFor(() => false, 200);
    openStreams(c, 0, 6);
    expect(await c.waitFor(() => c.isClosed())).toBe(true);
    expect(c.goaway()).toBeDefined();
    await othersServed();
  });

  it(`more than ${MAX_INVALID_FRAMES} invalid frames end the session`, async () => {
    await serve();
    const c = await rawH2(port);
    // A field name in upper case is malformed in HTTP/2 (§8.2.1): each such stream is an invalid frame.
    let sent = 0;
    for (; sent < 1200 && !c.isClosed(); sent++) {
      c.write(headers(1 + 2 * sent, requestBlock("/", [["X-Upper", "1"]])));
      if (sent % 10 === 9) await sleep(5);
    }
    expect(await c.waitFor(() => c.isClosed())).toBe(true);
    // Node ends the session (GOAWAY INTERNAL_ERROR, often lost with the TCP reset of unread data).
    expect(sent).toBeLessThanOrEqual(MAX_INVALID_FRAMES + 100);
    expect(requests).toBe(0);
  });

  it("refuses connection-specific fields and te other than trailers (RFC 9113 §8.2.2); te: trailers passes", async () => {
    await serve();
    const c = await rawH2(port);
    const bad: Array<[string, string]> = [
      ["connection", "keep-alive"],
      ["keep-alive", "timeout=5"],
      ["proxy-connection", "keep-alive"],
      ["transfer-encoding", "chunked"],
      ["upgrade", "websocket"],
      ["te", "gzip"],
    ];
    for (const [i, [n, v]] of bad.entries()) c.write(headers(1 + 2 * i, requestBlock("/", [[n, v]])));
    c.write(headers(21, requestBlock("/", [["te", "trailers"]])));
    expect(await c.waitFor(() => c.answered().has(21) && c.resets().size >= bad.length)).toBe(true);
    for (let i = 0; i < bad.length; i++) expect(c.resets().get(1 + 2 * i)).toBe(E.PROTOCOL_ERROR);
    expect(requests).toBe(1);
    c.socket.destroy();
  });

  it("a body shorter than its content-length is a stream error", async () => {
    await serve();
    const c = await rawH2(port);
    c.write(headers(1, requestBlock("/", [["content-length", "10"]], "POST"), F.END_HEADERS));
    c.write(frame(T.DATA, F.END_STREAM, 1, Buffer.from("abc")));
    expect(await c.waitFor(() => c.resets().has(1))).toBe(true);
    expect(c.resets().get(1)).toBe(E.PROTOCOL_ERROR);
    c.socket.destroy();
  });
});
