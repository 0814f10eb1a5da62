import net from "node:net";

/** What a raw HTTP exchange came to: the server's bytes, and how much of the body went out before it closed. */
export interface RawExchange {
  response: string;
  status: number;
  bodyBytesSent: number;
  /** The server closed the connection (end or reset) before the whole body was sent. */
  closedEarly: boolean;
}

/**
 * Sends a request head, then up to `bodyBytes` of body in chunks (chunked
 * framing unless the head declares a Content-Length), honouring back-pressure
 * and stopping as soon as the server answers or closes. Bounded by `timeoutMs`.
 */
export function rawRequest(
  url: string,
  head: string,
  opts: { bodyBytes: number; chunked: boolean; fill?: string; timeoutMs?: number },
): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let response = "";
    let sent = 0;
    let closed = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer in time; got ${JSON.stringify(response.slice(0, 200))}`));
    }, opts.timeoutMs ?? 60_000);
    const finish = () => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      resolve({
        response,
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0),
        bodyBytesSent: sent,
        closedEarly: sent < opts.bodyBytes,
      });
    };
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      response += d;
    });
    socket.on("error", () => finish());
    socket.on("close", () => finish());
    const chunk = Buffer.alloc(64 * 1024, opts.fill ?? "a");
    const framed = opts.chunked
      ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")])
      : chunk;
    socket.once("connect", async () => {
      socket.write(head);
      while (!closed && !socket.destroyed && sent < opts.bodyBytes && response === "") {
        const ok = socket.write(framed);
        sent += chunk.length;
        if (!ok)
          await new Promise<void>((r) => {
            socket.once("drain", r);
            socket.once("close", r);
          });
      }
      if (!closed && !socket.destroyed && sent >= opts.bodyBytes && opts.chunked) socket.write("0\r\n\r\n");
    });
  });
}
