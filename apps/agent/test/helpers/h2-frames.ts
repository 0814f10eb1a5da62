import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

/*
 * A raw HTTP/2 client that writes frames by hand, for the attacks node:http2's
 * own client refuses to send. Header blocks are HPACK literals without
 * Huffman coding (RFC 7541 §6.2), plus indexed references for HPACK bombs.
 */

export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
export const T = {
  DATA: 0,
  HEADERS: 1,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
} as const;
export const F = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;
/** Error codes (RFC 9113 §7). */
export const E = {
  NO_ERROR: 0,
  PROTOCOL_ERROR: 1,
  INTERNAL_ERROR: 2,
  REFUSED_STREAM: 7,
  CANCEL: 8,
  ENHANCE_YOUR_CALM: 11,
} as const;

export function frame(
  type: number,
  flags: number,
  stream: number,
  payload: Buffer = Buffer.alloc(0),
): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([h, payload]);
}

/** An HPACK integer with an N-bit prefix whose high bits are `mask`. */
function hpackInt(v: number, bits: number, mask: number): Buffer {
  const max = (1 << bits) - 1;
  if (v < max) return Buffer.from([mask | v]);
  const out = [mask | max];
  let rest = v - max;
  while (rest >= 128) {
    out.push((rest & 0x7f) | 0x80);
    rest >>= 7;
  }
  out.push(rest);
  return Buffer.from(out);
}

const str = (s: string) => Buffer.concat([hpackInt(Buffer.byteLength(s), 7, 0), Buffer.from(s, "latin1")]);

/** Literal without indexing, new name (0x00). */
export const literal = (name: string, value: string) =>
  Buffer.concat([Buffer.from([0]), str(name), str(value)]);
/** Literal with incremental indexing, new name (0x40): it enters the dynamic table at index 62. */
export const indexedLiteral = (name: string, value: string) =>
  Buffer.concat([Buffer.from([0x40]), str(name), str(value)]);
/** An indexed field (0x80 | index): the whole field from the tables. */
export const indexed = (index: number) => hpackInt(index, 7, 0x80);

/** A GET request's header block for `path`. */
export function requestBlock(path: string, extra: Array<[string, string]> = [], method = "GET"): Buffer {
  return Buffer.concat([
    literal(":method", method),
    literal(":scheme", "http"),
    literal(":path", path),
    literal(":authority", "example.com"),
    ...extra.map(([n, v]) => literal(n, v)),
  ]);
}

export function settings(entries: Array<[number, number]> = []): Buffer {
  const p = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, v], i) => {
    p.writeUInt16BE(id, i * 6);
    p.writeUInt32BE(v, i * 6 + 2);
  });
  return frame(T.SETTINGS, 0, 0, p);
}

export function rstStream(stream: number, code: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(code);
  return frame(T.RST_STREAM, 0, stream, p);
}

export interface SeenFrame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

/** A connection writing raw frames and parsing what comes back. */
export interface RawH2 {
  socket: Socket;
  frames: SeenFrame[];
  closed: Promise<void>;
  isClosed(): boolean;
  write(b: Buffer): boolean;
  /** GOAWAY's error code, once one came. */
  goaway(): number | undefined;
  /** RST_STREAM codes by stream id. */
  resets(): Map<number, number>;
  /** Streams that got a response HEADERS frame. */
  answered(): Set<number>;
  waitFor(check: () => boolean, ms?: number): Promise<boolean>;
}

/**
 * Opens a connection (TLS with ALPN h2 when `tls`), sends the preface and
 * `initial` SETTINGS, and ACKs the server's SETTINGS unless `ackSettings` is false.
 */
export async function rawH2(
  port: number,
  opts: { tls?: boolean; initial?: Array<[number, number]>; ackSettings?: boolean } = {},
): Promise<RawH2> {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = opts.tls
      ? tlsConnect(
          {
            host: "127.0.0.1",
            port,
            ALPNProtocols: ["h2"],
            rejectUnauthorized: false,
            servername: "example.com",
          },
          () => resolve(s),
        )
      : netConnect({ host: "127.0.0.1", port }, () => resolve(s));
    s.once("error", reject);
  });
  socket.on("error", () => {});
  const frames: SeenFrame[] = [];
  let buf = Buffer.alloc(0);
  let closed = false;
  const closedP = new Promise<void>((r) =>
    socket.once("close", () => {
      closed = true;
      r();
    }),
  );
  socket.on("data", (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    while (buf.length >= 9) {
      const len = buf.readUIntBE(0, 3);
      if (buf.length < 9 + len) break;
      const f = {
        type: buf[3]!,
        flags: buf[4]!,
        stream: buf.readUInt32BE(5) & 0x7fffffff,
        payload: buf.subarray(9, 9 + len),
      };
      buf = buf.subarray(9 + len);
      frames.push(f);
      if (f.type === T.SETTINGS && (f.flags & F.ACK) === 0 && opts.ackSettings !== false && !socket.destroyed)
        socket.write(frame(T.SETTINGS, F.ACK, 0));
    }
  });
  socket.write(Buffer.concat([PREFACE, settings(opts.initial ?? [])]));
  const c: RawH2 = {
    socket,
    frames,
    closed: closedP,
    isClosed: () => closed,
    write: (b) => (socket.destroyed ? false : socket.write(b)),
    goaway: () => {
      const g = frames.find((f) => f.type === T.GOAWAY);
      return g ? g.payload.readUInt32BE(4) : undefined;
    },
    resets: () =>
      new Map(
        frames.filter((f) => f.type === T.RST_STREAM).map((f) => [f.stream, f.payload.readUInt32BE(0)]),
      ),
    answered: () => new Set(frames.filter((f) => f.type === T.HEADERS).map((f) => f.stream)),
    async waitFor(check, ms = 5000) {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        if (check()) return true;
        await new Promise((r) => setTimeout(r, 10));
      }
      return check();
    },
  };
  return c;
}
