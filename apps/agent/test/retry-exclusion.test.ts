import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NodeEngine } from "../src/engines/builtin/node-engine";
import { silentLogger } from "../src/log";
import { freePort, get } from "./helpers/net";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";

/**
 * A raw HTTP/1.1 backend that answers its name with keep-alive, and can be
 * told to die at its next request: it stops listening (new connects are
 * refused) and resets the connection the request came on, the way a killed
 * process looks to a proxy holding pooled keep-alive sockets to it.
 */
interface Killable {
  name: string;
  port: number;
  requests: number;
  /** "die": stop listening and reset every connection; "reset": reset this connection only, once. */
  atNextRequest: "answer" | "die" | "reset";
  close(): void;
}

async function startKillable(name: string): Promise<Killable> {
  const sockets = new Set<Socket>();
  const k: Killable = { name, port: 0, requests: 0, atNextRequest: "answer", close: () => {} };
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
    let buf = "";
    s.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      while (buf.includes("\r\n\r\n")) {
        buf = buf.slice(buf.indexOf("\r\n\r\n") + 4);
        k.requests++;
        if (k.atNextRequest === "die") {
          server.close();
          for (const o of sockets) o.resetAndDestroy();
          return;
        }
        if (k.atNextRequest === "reset") {
          k.atNextRequest = "answer";
          s.resetAndDestroy();
          return;
        }
        s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${name.length}\r\nX-Backend: ${name}\r\n\r\n${name}`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  k.port = (server.address() as AddressInfo).port;
  k.close = () => {
    server.close();
    for (const o of sockets) o.destroy();
  };
  return k;
}

describe.each(["h1", "node"] as const)("%s front end: a retry after a dead pooled connection", (frontEnd) => {
  let x: Killable;
  let y: Killable;
  let engine: NodeEngine;
  let port: number;

  beforeEach(async () => {
    x = await startKillable("x");
    y = await startKillable("y");
    engine = new NodeEngine({ log: silentLogger, timeouts: { drainGraceMs: 100 }, httpFrontEnd: frontEnd });
    port = await freePort();
  });
  afterEach(async () => {
    await engine.stop();
    x.close();
    y.close();
  });

  it("does not go back to the backend whose reused socket just failed (it is dead: the other one answers)", async () => {
    // source_ip_hash sends every request from 127.0.0.1 to the same backend, so only excluding it
    // can move the retry elsewhere; one retry allowed, outlier detection off so nothing else moves it.
    await engine.apply(
      makeSnapshot(
        1,
        [httpListener(port)],
        [backend("x", x.port), backend("y", y.port)],
        "source_ip_hash",
        [],
        {
          retries: { enabled: true, attempts: 1, budgetPercent: 100 },
          outlierDetection: { enabled: false },
        },
      ),
    );
    const first = await get(port, "/");
    expect(first.status).toBe(200);
    const victim = first.body === "x" ? x : y;
    const other = victim === x ? y : x;
    // The proxy now holds a pooled keep-alive connection to the victim, which dies at the next request.
    victim.atNextRequest = "die";
    const second = await get(port, "/");
    expect(second.status).toBe(200);
    expect(second.body).toBe(other.name);
    expect(victim.requests).toBe(2);
  });

  it("a pooled connection the backend had reset costs one free retry on a fresh connection", async () => {
    // No retries configured and one backend: only the free retry for a stale keep-alive socket can answer.
    await engine.apply(
      makeSnapshot(1, [httpListener(port)], [backend("x", x.port)], "round_robin", [], {
        retries: { enabled: true, attempts: 0, budgetPercent: 100 },
        outlierDetection: { enabled: false },
      }),
    );
    expect((await get(port, "/")).body).toBe("x");
    x.atNextRequest = "reset";
    const second = await get(port, "/");
    expect(second.status).toBe(200);
    expect(second.body).toBe("x");
    expect(x.requests).toBe(3);
  });
});
