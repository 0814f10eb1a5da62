import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { ClientConn } from "../../src/dataplane/frontends/h1/connection";
import type { H1Server } from "../../src/dataplane/frontends/h1/server";
import { writeNow, writePending } from "../../src/dataplane/sockets/direct-write";
import { FixedPool, startProxy } from "./helpers";

// ClientConn.closeClient(clientDone): after a Connection: close exchange the socket is closed
// at once when the kernel holds the whole response, and ended (FIN after the queued bytes)
// when some of it is still queued in the agent. Reached here on a real accepted socket, with
// bytes still queued because the client reads nothing yet.

const cleanups: (() => Promise<unknown> | undefined)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const connsOf = (h1: H1Server) => (h1 as unknown as { conns: Set<ClientConn> }).conns;

async function until(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A client connected to the proxy, not reading; returns its connection on the proxy side and a reader. */
async function pausedClient(h1: H1Server, port: number) {
  const s = connect({ port, host: "127.0.0.1" });
  s.on("error", () => {});
  cleanups.push(() => void s.destroy());
  s.pause();
  await until(() => connsOf(h1).size === 1);
  const conn = [...connsOf(h1)][0]!;
  let bytes = 0;
  s.on("data", (c: Buffer) => {
    bytes += c.length;
  });
  const ended = new Promise<void>((resolve) => s.on("end", () => resolve()));
  return {
    conn,
    readAll: async () => {
      s.resume();
      await ended;
      return bytes;
    },
  };
}

describe("h1 closeClient after a complete exchange", () => {
  it("ends the socket after bytes still queued, so the client gets all of them before the FIN", async () => {
    const { h1, port } = await startProxy(new FixedPool([1]));
    cleanups.push(() => h1.close(0));
    const { conn, readAll } = await pausedClient(h1, port);
    const big = Buffer.alloc(48 * 1024 * 1024, "q");
    writeNow(conn.socket, big);
    expect(writePending(conn.socket)).toBe(true);
    conn.closeClient(true);
    expect(await readAll()).toBe(big.length);
    await until(() => h1.connectionCount === 0);
  });

  it("closes the socket at once when the kernel holds the whole response", async () => {
    const { h1, port } = await startProxy(new FixedPool([1]));
    cleanups.push(() => h1.close(0));
    const { conn, readAll } = await pausedClient(h1, port);
    const small = Buffer.alloc(1000, "q");
    writeNow(conn.socket, small);
    expect(writePending(conn.socket)).toBe(false);
    conn.closeClient(true);
    // Gone without a turn of the event loop for a shutdown request, and the bytes still arrive.
    expect(conn.socket.destroyed).toBe(true);
    expect(await readAll()).toBe(small.length);
    await until(() => h1.connectionCount === 0);
  });
});
