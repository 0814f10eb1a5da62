import http from "node:http";

export interface DemoBackend {
  name: string;
  port: number;
  close(): Promise<void>;
}

interface Behaviour {
  /** Extra latency per request, ms: [min, max). */
  delayMs: [number, number];
  /** Share of requests answered 500. */
  errorRate: number;
  /** Every `periodMs`, the backend fails its health check for `downMs`. */
  outage?: { periodMs: number; downMs: number };
}

export const DEMO_BACKENDS: Array<{ name: string; port: number; behaviour: Behaviour }> = [
  { name: "alpha", port: 9101, behaviour: { delayMs: [1, 5], errorRate: 0 } },
  { name: "bravo", port: 9102, behaviour: { delayMs: [60, 160], errorRate: 0 } },
  {
    name: "charlie",
    port: 9103,
    behaviour: { delayMs: [2, 10], errorRate: 0.04, outage: { periodMs: 45_000, downMs: 15_000 } },
  },
];

/** A backend that answers with its name, slowly or unreliably as configured: something for the graphs to show. */
export async function startDemoBackend(name: string, port: number, b: Behaviour): Promise<DemoBackend> {
  const started = Date.now();
  const inOutage = () =>
    b.outage !== undefined &&
    (Date.now() - started) % b.outage.periodMs > b.outage.periodMs - b.outage.downMs;
  const server = http.createServer((req, res) => {
    if (req.url === "/healthz") {
      res.writeHead(inOutage() ? 503 : 200, { "content-type": "text/plain" });
      res.end(inOutage() ? "down\n" : "ok\n");
      return;
    }
    const [lo, hi] = b.delayMs;
    setTimeout(
      () => {
        const fail = inOutage() || Math.random() < b.errorRate;
        res.writeHead(fail ? 500 : 200, { "content-type": "text/plain" });
        res.end(fail ? `${name}: failed\n` : `hello from ${name}\n`);
      },
      lo + Math.random() * (hi - lo),
    );
  });
  server.on("clientError", (_e, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return {
    name,
    port,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
