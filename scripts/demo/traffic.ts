import http from "node:http";
import https from "node:https";
import type { DemoPorts } from "./messages";

/** Every HTTPS_EVERY-th request goes to the HTTPS listener, so its handshakes and traffic show too. */
const HTTPS_EVERY = 4;

/**
 * A light, steady load on the demo listeners (127.0.0.1 only): about `rps` requests a
 * second over keep-alive connections, some over HTTPS (verified against the demo CA,
 * `caPem`), until stopped.
 */
export function startTraffic(ports: DemoPorts, rps: number, caPem: string): { stop(): void; sent(): number } {
  const plain = new http.Agent({ keepAlive: true, maxSockets: 8 });
  // The certificate names localhost; the listener binds 127.0.0.1 (localhost may resolve to ::1 first).
  const secure = new https.Agent({ keepAlive: true, maxSockets: 2, ca: caPem, servername: "localhost" });
  let sent = 0;
  const paths = ["/", "/api/orders", "/api/users", "/static/app.js"];
  const timer = setInterval(() => {
    for (let i = 0; i < rps / 10; i++) {
      const path = paths[Math.floor(Math.random() * paths.length)];
      const overTls = sent % HTTPS_EVERY === 0;
      const req = overTls
        ? https.get({ host: "127.0.0.1", port: ports.https, path, agent: secure, timeout: 5000 }, (res) => {
            res.resume();
          })
        : http.get({ host: "127.0.0.1", port: ports.http, path, agent: plain, timeout: 5000 }, (res) => {
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
      plain.destroy();
      secure.destroy();
    },
    sent: () => sent,
  };
}
