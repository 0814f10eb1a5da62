import { createHash } from "node:crypto";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { NodeEngine } from "../src/engines/builtin/node-engine";
import { silentLogger } from "../src/log";
import { until } from "./helpers/backends";
import { freePort } from "./helpers/net";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";

const servers: Server[] = [];
let engine: NodeEngine | undefined;
afterEach(async () => {
  await engine?.stop();
  for (const s of servers.splice(0)) s.close();
});

/** Replies only after the client half-closes: proves the proxy forwards FIN and keeps the reverse path. */
async function startReplyAfterEnd(name: string): Promise<number> {
  const srv = createServer({ allowHalfOpen: true }, (s) => {
    let got = "";
    s.on("error", () => {});
    s.on("data", (d) => {
      got += d;
    });
    s.on("end", () => s.end(`${name}:${got}`));
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return (srv.address() as AddressInfo).port;
}

/** Connects through the proxy, sends `text` (or lets `send` write and end), returns all it reads until FIN. */
function exchange(port: number, send: string | ((s: Socket) => void)): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    let out = "";
    s.on("error", reject);
    s.on("data", (d) => {
      out += d;
    });
    s.on("end", () => {
      s.end();
      resolve(out);
    });
    if (typeof send === "string") s.end(send);
    else send(s);
  });
}

/** A tcp listener on a free port whose one backend is `srv` (started here); returns the port. */
async function tunnelTo(srv: Server): Promise<number> {
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = await freePort();
  engine = new NodeEngine({ log: silentLogger, timeouts: { drainGraceMs: 100 } });
  await engine.apply(
    makeSnapshot(
      1,
      [httpListener(port, { protocol: "tcp" })],
      [backend("a", (srv.address() as AddressInfo).port)],
    ),
  );
  return port;
}

describe("NodeEngine tcp listener", () => {
  it("splices bytes with half-close and round-robins connections", async () => {
    const p1 = await startReplyAfterEnd("a");
    const p2 = await startReplyAfterEnd("b");
    const port = await freePort();
    engine = new NodeEngine({ log: silentLogger, timeouts: { drainGraceMs: 100 } });
    await engine.apply(
      makeSnapshot(1, [httpListener(port, { protocol: "tcp" })], [backend("a", p1), backend("b", p2)]),
    );
    expect(await exchange(port, "hi")).toBe("a:hi");
    expect(await exchange(port, "yo")).toBe("b:yo");
  });

  it("retries a refused connect on another backend", async () => {
    const good = await startReplyAfterEnd("ok");
    const closed = await freePort();
    const port = await freePort();
    engine = new NodeEngine({ log: silentLogger, timeouts: { drainGraceMs: 100 } });
    await engine.apply(
      makeSnapshot(
        1,
        [httpListener(port, { protocol: "tcp" })],
        [backend("gone", closed), backend("ok", good)],
        "round_robin",
        [],
        { outlierDetection: { enabled: false } },
      ),
    );
    for (let i = 0; i < 4; i++) expect(await exchange(port, `m${i}`)).toBe(`ok:m${i}`);
    const s = engine.stats();
    const failures = s.backends[`127.0.0.1:${closed}`]!.connectFailures;
    expect(failures).toBeGreaterThanOrEqual(2);
    expect(s.pools.p1!.retries).toBe(failures);
  });

  it("moves a large reply intact to a client that reads late, and counts its bytes", async () => {
    // The backend writes small pieces, one per turn: the proxy's client writes can stay queued
    // while write() still returns true, so its reused upstream read buffer must not be overwritten.
    const size = 8 * 1024 * 1024;
    const body = Buffer.alloc(size);
    for (let i = 0; i < size; i++) body[i] = (i * 29 + (i >> 11)) & 0xff;
    const srv = createServer({ allowHalfOpen: true }, (s) => {
      s.on("error", () => {});
      s.once("data", () => {
        let o = 0;
        const more = () => {
          if (o >= size) return void s.end();
          const n = Math.min(3_000 + (o % 1_700), size - o);
          const ok = s.write(body.subarray(o, o + n));
          o += n;
          if (ok) setImmediate(more);
          else s.once("drain", more);
        };
        more();
      });
    });
    const port = await tunnelTo(srv);
    const got = await new Promise<Buffer>((resolve, reject) => {
      const s = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
      const parts: Buffer[] = [];
      s.on("error", reject);
      s.pause();
      s.write("go");
      setTimeout(() => s.resume(), 200);
      s.on("data", (d: Buffer) => parts.push(d));
      s.on("end", () => {
        s.end();
        resolve(Buffer.concat(parts));
      });
    });
    expect(got.length).toBe(size);
    expect(got.equals(body)).toBe(true);
    const l = engine!.stats().listeners[`l-${port}`]!;
    await until(() => engine!.stats().listeners[`l-${port}`]!.bytesOut === size, 2000);
    expect(engine!.stats().listeners[`l-${port}`]!.bytesIn).toBe(2);
    expect(l.totalConnections).toBe(1);
  });

  it("carries two large uploads at once intact to a backend that reads late (client reads share one buffer)", async () => {
    // Each client read is a view of one buffer every connection reads into; the proxy's writes
    // to a backend that is not reading stay queued, so they must not point into that buffer.
    const size = 6 * 1024 * 1024;
    const bodies = [0, 1].map((k) => {
      const b = Buffer.alloc(size);
      for (let i = 0; i < size; i++) b[i] = (i * (31 + k * 6) + (i >> 9) + k * 101) & 0xff;
      return b;
    });
    const srv = createServer({ allowHalfOpen: true }, (s) => {
      s.on("error", () => {});
      s.pause();
      const parts: Buffer[] = [];
      s.on("data", (d: Buffer) => parts.push(d));
      s.on("end", () => s.end(createHash("sha256").update(Buffer.concat(parts)).digest("hex")));
      setTimeout(() => s.resume(), 300);
    });
    const port = await tunnelTo(srv);
    const upload = (body: Buffer) =>
      exchange(port, (s) => {
        // Pieces of uneven size, so reads of both connections interleave in the shared buffer.
        let o = 0;
        const more = () => {
          while (o < size) {
            const n = Math.min(7_000 + (o % 5_000), size - o);
            const ok = s.write(body.subarray(o, o + n));
            o += n;
            if (!ok) return void s.once("drain", more);
          }
          s.end();
        };
        more();
      });
    const digests = await Promise.all(bodies.map(upload));
    expect(digests).toEqual(bodies.map((b) => createHash("sha256").update(b).digest("hex")));
  });

  it("closes a tunnel after idleMs without a byte either way", async () => {
    const srv = createServer({ allowHalfOpen: true }, (s) => {
      s.on("error", () => {});
      s.on("data", (d) => s.write(d));
    });
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = await freePort();
    engine = new NodeEngine({ log: silentLogger, timeouts: { drainGraceMs: 100 } });
    await engine.apply(
      makeSnapshot(
        1,
        [
          httpListener(port, {
            protocol: "tcp",
            settings: {
              trustForwarded: false,
              maxConnections: 1000,
              maxHeaderBytes: 16_384,
              timeouts: { connectMs: 1000, headMs: 1000, idleMs: 400, responseMs: 1000 },
            },
          }),
        ],
        [backend("a", (srv.address() as AddressInfo).port)],
      ),
    );
    const s = connect({ host: "127.0.0.1", port });
    s.on("error", () => {});
    let echoed = "";
    s.on("data", (d) => {
      echoed += d;
    });
    const closed = new Promise<number>((r) => s.on("close", () => r(Date.now())));
    // Traffic every 150 ms keeps it open past idleMs; then silence closes it.
    for (let i = 0; i < 5; i++) {
      s.write(`${i}`);
      await new Promise((r) => setTimeout(r, 150));
    }
    const quietSince = Date.now();
    expect(echoed).toBe("01234");
    const at = await closed;
    expect(at - quietSince).toBeGreaterThanOrEqual(250);
    expect(at - quietSince).toBeLessThan(1200);
  });

  it("holds connections beyond a backend's limit in the queue; a full queue closes them", async () => {
    const p1 = await startReplyAfterEnd("a");
    const port = await freePort();
    const e = new NodeEngine({ log: silentLogger, timeouts: { drainGraceMs: 100 } });
    engine = e;
    await e.apply(
      makeSnapshot(
        1,
        [httpListener(port, { protocol: "tcp" })],
        [backend("a", p1, { maxConnections: 1 })],
        "round_robin",
        [],
        {
          limits: { queueSize: 1, queueTimeoutMs: 2000 },
        },
      ),
    );
    // The first connection stays open (no FIN yet): it holds the only slot.
    const held = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    let heldReply = "";
    held.on("data", (d) => {
      heldReply += d;
    });
    await until(() => e.stats().backends[`127.0.0.1:${p1}`]?.inFlight === 1, 2000);
    const queued = exchange(port, "second");
    await until(() => e.pool("p1")!.queueLength === 1, 2000);
    // Queue full: closed without a byte.
    expect(await exchange(port, "third")).toBe("");
    held.end("first");
    await until(() => heldReply === "a:first", 2000);
    expect(await queued).toBe("a:second");
    expect(e.stats().pools.p1!.queueFull).toBe(1);
    held.destroy();
  });

  it("a draining backend reports drained only once its open tunnels close", async () => {
    const p1 = await startReplyAfterEnd("a");
    const p2 = await startReplyAfterEnd("b");
    const port = await freePort();
    const e = new NodeEngine({ log: silentLogger, timeouts: { drainGraceMs: 100 } });
    engine = e;
    const drained: string[] = [];
    e.onHealthEvent((e) => {
      if (e.state === "drained") drained.push(e.backendId);
    });
    const snap = (v: number, aState: "enabled" | "draining") =>
      makeSnapshot(
        v,
        [httpListener(port, { protocol: "tcp" })],
        [backend("a", p1, { state: aState }), backend("b", p2, { state: v === 1 ? "disabled" : "enabled" })],
      );
    await e.apply(snap(1, "enabled"));
    const tunnel = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    let reply = "";
    tunnel.on("data", (d) => {
      reply += d;
    });
    await until(() => e.stats().backends[`127.0.0.1:${p1}`]?.inFlight === 1, 2000);
    await e.apply(snap(2, "draining"));
    expect(await exchange(port, "new")).toBe("b:new");
    await new Promise((r) => setTimeout(r, 50));
    expect(drained).toEqual([]);
    tunnel.end("old");
    await until(() => reply === "a:old", 2000);
    expect(await until(() => drained.length === 1, 2000)).toBe(true);
    expect(drained).toEqual(["a"]);
  });
});
