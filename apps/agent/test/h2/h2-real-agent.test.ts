import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, spawnAgent } from "../helpers/agent-process";
import { countBy } from "../helpers/backends";
import { makeCertificate } from "../helpers/certs";
import { closeSession, h2Request, h2Session } from "../helpers/h2-client";
import { freePort, type NamedBackend, startBackend } from "../helpers/net";
import { parsePrometheus, samples, scrape } from "../helpers/prometheus-text";
import { backend, httpListener, makeSnapshot, withListenerTls } from "../helpers/snapshot";

/*
 * HTTP/2 through the agent as an operator runs it (`fulcrum-agent --config`),
 * driven by curl (--http2-prior-knowledge, --http2 over TLS) and node:http2,
 * to real HTTP/1.1 backends; Prometheus counts every stream as a request.
 */

const run = promisify(execFile);
const curl = async (args: string[]) => (await run("curl", ["-sS", "--max-time", "10", ...args])).stdout;

let dir: string;
let a: NamedBackend;
let b: NamedBackend;
let agent: AgentProcess;
let plain: number;
let secure: number;
let metrics: number;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fulcrum-h2-agent-"));
  a = await startBackend("a");
  b = await startBackend("b");
  [plain, secure, metrics] = [await freePort(), await freePort(), await freePort()];
  const cert = makeCertificate("h2-agent", ["example.com"]);
  // The TLS listener first (withListenerTls takes the first), then the plain h2c one.
  const base = makeSnapshot(
    1,
    [httpListener(secure, { http2: { h2: true } }), httpListener(plain, { http2: { h2c: true } })],
    [backend("a", a.port), backend("b", b.port)],
  );
  const file = join(dir, "config.json");
  await writeFile(
    file,
    JSON.stringify({ snapshot: withListenerTls(base, cert), tlsMaterial: [cert.material] }),
  );
  agent = spawnAgent(["--config", file, "--metrics-port", String(metrics)]);
  await agent.waitFor(/applied snapshot/, 30_000);
}, 40_000);
afterAll(async () => {
  await agent?.stop();
  await a.close();
  await b.close();
  await rm(dir, { recursive: true, force: true });
});

const listenerRequests = async (port: number) => {
  const fams = parsePrometheus((await scrape(metrics)).body);
  const name = `http-${port}`;
  return {
    requests: samples(fams, "fulcrum_listener_requests_total", { listener: name })[0]?.value,
    connections: samples(fams, "fulcrum_connections_total", { listener: name })[0]?.value,
  };
};

describe("a real agent serving HTTP/2", () => {
  // curl 7.88 fails a second transfer on a prior-knowledge connection it reuses (nginx too: "Error in
  // the HTTP2 framing layer"), so each curl here makes one transfer; node:http2 multiplexes below.
  it("curl --http2-prior-knowledge: HTTP/2 answers, round robin over the backends, each a request and a connection in Prometheus", async () => {
    const lines: string[] = [];
    for (let i = 0; i < 6; i++) {
      lines.push(
        await curl(["--http2-prior-knowledge", "-w", " %{http_version}", `http://127.0.0.1:${plain}/n${i}`]),
      );
    }
    expect(lines).toEqual(["a 2", "b 2", "a 2", "b 2", "a 2", "b 2"]);
    expect(await listenerRequests(plain)).toEqual({ requests: 6, connections: 6 });
  });

  it("curl --http2 over TLS negotiates h2 by ALPN; POST bodies reach the backend; HTTP/1.1 curl still served", async () => {
    const resolve = ["--resolve", `example.com:${secure}:127.0.0.1`, "-k"];
    const url = `https://example.com:${secure}/`;
    expect(await curl([...resolve, "--http2", "-w", " %{http_version}", url])).toMatch(/^[ab] 2$/);
    const before = a.seen.length + b.seen.length;
    expect(await curl([...resolve, "--http2", "-d", "hello", "-w", " %{http_version}", url])).toMatch(
      /^[ab] 2$/,
    );
    const post = [...a.seen, ...b.seen].slice(before).find((r) => r.method === "POST");
    expect(post?.headers["content-length"]).toBe("5");
    expect(post?.headers["x-forwarded-proto"]).toBe("https");
    expect(await curl([...resolve, "--http1.1", "-w", " %{http_version}", url])).toMatch(/^[ab] 1\.1$/);
    expect((await listenerRequests(secure)).requests).toBe(3);
  });

  it("node:http2: 100 concurrent streams on one connection, each a request, both backends", async () => {
    const before = (await listenerRequests(plain)).requests ?? 0;
    const s = h2Session(`http://127.0.0.1:${plain}`);
    try {
      const replies = await Promise.all(
        Array.from({ length: 100 }, () => h2Request(s, { ":path": "/", ":authority": "x" })),
      );
      expect(countBy(replies.map((r) => r.body))).toEqual(
        new Map([
          ["a", 50],
          ["b", 50],
        ]),
      );
    } finally {
      await closeSession(s);
    }
    expect((await listenerRequests(plain)).requests).toBe(before + 100);
  });
});
