import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { directWrites, writeNow, writePending } from "../../src/dataplane/sockets/direct-write";

/** A connected pair on 127.0.0.1: `a` writes, `b` receives (paused until resumed). */
async function pair(): Promise<{ a: Socket; b: Socket; close: () => void }> {
  let accepted: (s: Socket) => void = () => {};
  const got = new Promise<Socket>((r) => {
    accepted = r;
  });
  const server = createServer((s) => {
    s.pause();
    accepted(s);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const a = connect((server.address() as AddressInfo).port, "127.0.0.1");
  a.on("error", () => {});
  await new Promise((r) => a.once("connect", r));
  const b = await got;
  return {
    a,
    b,
    close: () => {
      a.destroy();
      b.destroy();
      server.close();
    },
  };
}

function readAll(s: Socket, bytes: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let n = 0;
    s.on("data", (d: Buffer) => {
      parts.push(d);
      n += d.length;
      if (n >= bytes) resolve(Buffer.concat(parts));
    });
    s.resume();
  });
}

describe("direct writes", () => {
  it("are on for this Node (the h1 fast path is not silently falling back)", () => {
    expect(directWrites).toBe(true);
  });

  it("keep the order of writes queued through the Writable before them, and report backpressure", async () => {
    const { a, b, close } = await pair();
    try {
      const big = Buffer.alloc(8 * 1024 * 1024, 1);
      const mid = Buffer.alloc(1024 * 1024, 2);
      const small = Buffer.from("tail");
      a.write(big); // the receiver is paused: most of this queues
      a.write(mid); // waits in the Writable behind it
      expect(writePending(a)).toBe(true);
      expect(writeNow(a, small)).toBe(false);
      const all = await readAll(b, big.length + mid.length + small.length);
      expect(all.subarray(0, big.length).every((x) => x === 1)).toBe(true);
      expect(all.subarray(big.length, big.length + mid.length).every((x) => x === 2)).toBe(true);
      expect(all.subarray(big.length + mid.length).toString()).toBe("tail");
    } finally {
      close();
    }
  });

  it("emit 'drain' when a direct write the kernel could not take whole is out", async () => {
    const { a, b, close } = await pair();
    try {
      const big = Buffer.alloc(16 * 1024 * 1024, 3);
      expect(writeNow(a, big)).toBe(false);
      expect(writePending(a)).toBe(true);
      const drained = new Promise((r) => a.once("drain", r));
      const all = await readAll(b, big.length);
      await drained;
      expect(all.length).toBe(big.length);
      expect(writePending(a)).toBe(false);
      expect(writeNow(a, Buffer.from("x"))).toBe(true);
    } finally {
      close();
    }
  });
});
