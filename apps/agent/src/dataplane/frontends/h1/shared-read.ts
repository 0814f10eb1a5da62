/**
 * Client bytes may arrive as views of a read buffer every connection shares
 * (socket/accept.ts, acceptWithOnread): such a view dies when the read
 * callback returns, so whatever a connection keeps or queues past it is
 * copied first. Socket 'data' chunks, and copies, are the connection's own.
 */

/** `chunk` itself when it is ours to keep, else a copy of it. */
export const own = (chunk: Buffer, owned: boolean): Buffer => (owned ? chunk : Buffer.from(chunk));
