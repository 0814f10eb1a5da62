import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { NodeEngine } from "../../src/engines/builtin/node-engine";
import { silentLogger } from "../../src/log";
import { E, F, frame, indexed, indexedLiteral, rawH2, requestBlock, T } from "../helpers/h2-frames";
import { freePort } from "../helpers/net";
import { backend, httpListener, makeSnapshot } from "../helpers/snapshot";

let server: Server;
let bp: number;
let requests = 0;
let engine: NodeEngine;
let port: number;
beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    req.resume();
    req.on("end", () => res.end("ok"));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  bp = (server.address() as AddressInfo).port;
  engine = new NodeEngine({ log: silentLogger });
  port = await freePort();
  await engine.apply(makeSnapshot(1, [httpListener(port, { http2: { h2c: true } })], [backend("a", bp)]));
});
afterAll(async () => {
  await engine.stop();
  server.close();
});
const dump = (c: Awaited<ReturnType<typeof rawH2>>, tag: string) =>
  console.log(
    tag,
    "closed",
    c.isClosed(),
    "goaway",
    c.goaway(),
    "resets",
    [...c.resets()].slice(0, 10),
    "types",
    c.frames
      .map((f) => `${f.type}/${f.stream}`)
      .slice(0, 30)
      .join(" "),
  );

it("empty continuation", async () => {
  const c = await rawH2(port);
  c.write(frame(T.HEADERS, 0, 1, requestBlock("/")));
  let sent = 0;
  for (; sent < 50000 && !c.isClosed(); sent++) {
    c.write(frame(T.CONTINUATION, 0, 1));
    if (sent % 100 === 99) await new Promise((r) => setImmediate(r));
  }
  await c.waitFor(() => c.isClosed(), 3000);
  dump(c, `EMPTYCONT sent=${sent}`);
});
it("bomb before ack", async () => {
  const c = await rawH2(port, { ackSettings: false });
  const bomb = Buffer.concat([
    requestBlock("/"),
    indexedLiteral("x-bomb", "b".repeat(4000)),
    ...Array.from({ length: 100 }, () => indexed(62)),
  ]);
  c.write(frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, bomb));
  await new Promise((r) => setTimeout(r, 1000));
  dump(c, `BOMBNOACK req=${requests}`);
  c.socket.destroy();
});
it("bomb after ack", async () => {
  const c = await rawH2(port);
  await c.waitFor(() => false, 200);
  const bomb = Buffer.concat([
    requestBlock("/"),
    indexedLiteral("x-bomb", "b".repeat(4000)),
    ...Array.from({ length: 100 }, () => indexed(62)),
  ]);
  c.write(frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, bomb));
  await new Promise((r) => setTimeout(r, 1000));
  dump(c, `BOMBACK req=${requests}`);
  c.socket.destroy();
});
it("ping flood", async () => {
  const c = await rawH2(port);
  await c.waitFor(() => false, 200);
  c.socket.pause();
  const ping = frame(T.PING, 0, 0, Buffer.alloc(8));
  const batch = Buffer.concat(Array.from({ length: 1000 }, () => ping));
  let i = 0;
  for (; i < 500 && !c.isClosed(); i++) {
    c.write(batch);
    await new Promise((r) => setTimeout(r, 1));
  }
  console.log("PING batches", i, "closed", c.isClosed());
  c.socket.resume();
  await c.waitFor(() => c.isClosed(), 3000);
  dump(c, "PING");
});
