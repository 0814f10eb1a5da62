import { get } from "node:http";

/** One GET on a fresh connection; resolves with status, body and elapsed ms. */
export function httpGet(
  port: number,
  timeoutMs = 5000,
): Promise<{ status: number; body: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = get({ host: "127.0.0.1", port, path: "/", agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - t0 }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer on port ${port} within ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}
