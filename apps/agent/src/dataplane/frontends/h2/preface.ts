import type { Socket } from "node:net";

/** What every HTTP/2 connection starts with (RFC 9113 §3.4); "PRI" is no HTTP/1.1 method anyone uses. */
export const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/**
 * h2c with prior knowledge next to HTTP/1.1 on one plain listener: reads the
 * first bytes until they match the client preface or stop matching it (for an
 * HTTP/1.1 request line, at its first or second byte), then hands the socket
 * to `h2` or `h1` with the bytes read put back (`unshift`), paused: whoever
 * takes it resumes. A client that sends nothing decisive within `headMs`
 * (the listener's head timeout), or ends first, is closed.
 */
export function sniffPreface(
  socket: Socket,
  headMs: number,
  h2: (socket: Socket) => void,
  h1: (socket: Socket) => void,
): void {
  let got: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), headMs);
  const done = () => {
    clearTimeout(timer);
    socket.pause();
    socket.off("data", onData);
    socket.off("end", onEnd);
    socket.unshift(got);
  };
  const onEnd = () => {
    clearTimeout(timer);
    socket.destroy();
  };
  const onData = (chunk: Buffer) => {
    got = got.length === 0 ? chunk : Buffer.concat([got, chunk]);
    const n = Math.min(got.length, H2_PREFACE.length);
    if (got.compare(H2_PREFACE, 0, n, 0, n) !== 0) {
      done();
      h1(socket);
    } else if (n === H2_PREFACE.length) {
      done();
      h2(socket);
    }
  };
  socket.on("data", onData);
  socket.once("end", onEnd);
  socket.on("error", () => clearTimeout(timer));
}
