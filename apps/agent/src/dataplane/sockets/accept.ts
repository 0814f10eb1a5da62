import { type Server, Socket, type SocketConstructorOpts } from "node:net";
import { getSystemErrorName } from "node:util";
import { contained } from "../../guard";
import { createLogger } from "../../log";

/** Where a bug in one client connection's handler is reported (the agent's own log format, on stderr). */
const bugLog = createLogger();

/** A handler threw on one connection: that connection is dropped, logged; the listener and the process go on. */
function connectionBug(socket: Socket, e: unknown): false {
  contained(bugLog, "client connection handler", e);
  socket.destroy();
  return false;
}

/**
 * net.Server's accept callback as Node 18–22 call it on the listening TCP
 * handle: `onconnection(status, clientHandle)`, status 0 on success. Only
 * what the takeover below touches.
 */
interface ListenHandle {
  onconnection: (status: number, client: ClientHandle | undefined) => void;
}
interface ClientHandle {
  close(): void;
}
interface ServerInternals {
  _handle: ListenHandle | null;
  _connections: number;
  allowHalfOpen: boolean;
}

export type OnRead = (bytes: number, buf: Uint8Array) => boolean | undefined;

/**
 * The read buffer every client socket of every listener shares. Reads are
 * handled one at a time and synchronously, and each connection copies out
 * whatever it keeps past a read, so sharing is safe; one buffer for all keeps
 * an idle connection from holding a read buffer of its own.
 */
export const SHARED_READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/**
 * Makes a listening server create its client sockets with `onread`: reads
 * then land in `buffer` and go straight to `callback`, without the Readable
 * stream (push, buffer list, 'data' event) and without a new ArrayBuffer per
 * read. net.Server has no option for this (only net.connect does), so the
 * listening handle's accept callback is replaced by one that builds the
 * Socket as Node's own does, plus `onread`. What net.Server does per
 * connection is kept: maxConnections, and the connection count that
 * server.close() waits for.
 *
 * `bind(socket)` must return the read callback for that socket; it runs
 * before the first read can arrive. Returns false, changing nothing, when
 * the server's internals are not the expected shape (a future Node): the
 * server's ordinary 'connection' event then still works.
 */
export function acceptWithOnread(
  server: Server,
  buffer: Uint8Array,
  onSocket: (socket: Socket) => OnRead,
): boolean {
  const s = server as unknown as ServerInternals;
  const handle = s._handle;
  if (handle === null || typeof handle.onconnection !== "function" || typeof s._connections !== "number") {
    return false;
  }
  handle.onconnection = (status, client) => {
    if (status !== 0 || client === undefined) {
      server.emit("error", new Error(`accept failed: ${getSystemErrorName(status)}`));
      return;
    }
    if (server.maxConnections > 0 && s._connections >= server.maxConnections) {
      client.close();
      return;
    }
    let read: OnRead = () => true;
    const socket = new Socket({
      handle: client,
      allowHalfOpen: s.allowHalfOpen === true,
      readable: true,
      writable: true,
      onread: {
        buffer,
        callback: (n: number, b: Uint8Array) => {
          try {
            return read(n, b);
          } catch (e) {
            return connectionBug(socket, e);
          }
        },
      },
    } as SocketConstructorOpts);
    s._connections++;
    const owned = socket as unknown as { server: Server; _server: Server };
    owned.server = server;
    owned._server = server;
    try {
      read = onSocket(socket);
    } catch (e) {
      connectionBug(socket, e);
    }
  };
  return true;
}
