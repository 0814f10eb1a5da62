import { type AddressInfo, connect, createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { NodeEngine } from "../src/dataplane/node-engine";
import { silentLogger } from "../src/log";
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

function exchange(port: number, text: string): Promise<string> {
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
    s.end(text);
  });
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
});
