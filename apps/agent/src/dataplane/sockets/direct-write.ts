import type { Socket } from "node:net";
import { getSystemErrorName } from "node:util";

/**
 * Node's stream handle write API (what net.Socket#_writeGeneric calls), as
 * Node 18–22 expose it through process.binding("stream_wrap"). Only what a
 * direct write touches.
 */
interface WriteReq {
  handle: unknown;
  oncomplete: ((status: number) => void) | null;
  async: boolean;
  bytes: number;
  buffer: Buffer | null;
  callback: null;
}
interface StreamWrap {
  WriteWrap: new () => WriteReq;
  streamBaseState: { [i: number]: number };
  kLastWriteWasAsync: number;
}
interface StreamHandle {
  writeBuffer(req: WriteReq, data: Buffer): number;
  writeQueueSize: number;
}

function loadStreamWrap(): StreamWrap | undefined {
  try {
    const b = (process as unknown as { binding(name: string): unknown }).binding("stream_wrap") as StreamWrap;
    if (typeof b.WriteWrap !== "function" || typeof b.kLastWriteWasAsync !== "number") return undefined;
    if (typeof b.streamBaseState?.[b.kLastWriteWasAsync] !== "number") return undefined;
    return b;
  } catch {
    return undefined;
  }
}

const wrap = loadStreamWrap();

/** Whether writes skip the Writable stream when they can (for logs and tests). */
export const directWrites = wrap !== undefined;

const handleOf = (s: Socket): StreamHandle | null =>
  (s as unknown as { _handle: StreamHandle | null })._handle;

/**
 * Writes `buf` straight to the socket's handle when nothing is queued in
 * front of it, else through socket.write(). The Writable stream costs a
 * stream state update, a WriteWrap callback and a process.nextTick per write;
 * a proxied request makes two writes, and the kernel takes them whole almost
 * always. Order is kept: a direct write happens only with the Writable's
 * buffer empty, and writes of both kinds queue in libuv in call order.
 *
 * Returns what socket.write() would: false when bytes are still queued (the
 * socket then emits 'drain' when they are out).
 */
export function writeNow(socket: Socket, buf: Buffer): boolean {
  const h = handleOf(socket);
  if (
    wrap === undefined ||
    h === null ||
    socket.connecting ||
    !socket.writable ||
    socket.writableLength !== 0 ||
    socket.writableCorked !== 0 ||
    h.writeQueueSize !== 0
  ) {
    return socket.write(buf);
  }
  const req = new wrap.WriteWrap();
  req.handle = h;
  req.oncomplete = null;
  req.async = false;
  req.bytes = 0;
  req.buffer = null;
  req.callback = null;
  const err = h.writeBuffer(req, buf);
  if (err !== 0) {
    socket.destroy(writeError(err));
    return false;
  }
  if (wrap.streamBaseState[wrap.kLastWriteWasAsync] === 0) return true;
  // The kernel took part of it; libuv sends the rest. Keep the bytes alive until then.
  req.async = true;
  req.buffer = buf;
  req.oncomplete = (status: number) => {
    req.buffer = null;
    if (socket.destroyed) return;
    if (status < 0) socket.destroy(writeError(status));
    else if (h.writeQueueSize === 0 && socket.writableLength === 0) socket.emit("drain");
  };
  return false;
}

/** Bytes of this socket still waiting to be sent, in the Writable or queued by a direct write. */
export function writePending(socket: Socket): boolean {
  if (socket.writableLength > 0) return true;
  const h = handleOf(socket);
  return h !== null && h.writeQueueSize > 0;
}

/**
 * The error net.Socket itself would report: code (EPIPE, ECONNRESET...), errno and syscall.
 * Without a stack trace: destroy() reads err.stack, and formatting one (through source
 * maps when the agent runs from TypeScript) took about 6% of the agent's CPU in the
 * TLS new-connection bench (perf), where nearly every connection the agent closes
 * ends with EPIPE (Node's TLS layer writes the close_notify after the TCP shutdown).
 * The code says what failed; where in the agent is always here.
 */
function writeError(status: number): Error {
  const code = getSystemErrorName(status);
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const e = new Error(`write ${code}`);
  Error.stackTraceLimit = limit;
  return Object.assign(e, { code, errno: status, syscall: "write" });
}
