import http from "node:http";
import type { AddressInfo } from "node:net";

export interface NamedBackend {
  name: string;
  port: number;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 that answers with its own name, like the demo backends. */
export async function startNamedBackend(name: string): Promise<NamedBackend> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(name);
  });
  server.on("clientError", (_e, socket) => socket.destroy());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    name,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** One request with a fresh connection; returns the body, or the error's code. */
export async function get(port: number, path = "/"): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.text() };
}
