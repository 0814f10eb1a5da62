import http from "node:http";

/**
 * A light, steady load on the demo listener (127.0.0.1 only): about `rps`
 * requests a second over keep-alive connections, until stopped.
 */
export function startTraffic(port: number, rps: number): { stop(): void; sent(): number } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let sent = 0;
  const paths = ["/", "/api/orders", "/api/users", "/static/app.js"];
  const timer = setInterval(() => {
    for (let i = 0; i < rps / 10; i++) {
      const path = paths[Math.floor(Math.random() * paths.length)];
      const req = http.get({ host: "127.0.0.1", port, path, agent, timeout: 5000 }, (res) => {
        res.resume();
      });
      req.on("timeout", () => req.destroy());
      req.on("error", () => {});
      sent++;
    }
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      agent.destroy();
    },
    sent: () => sent,
  };
}
