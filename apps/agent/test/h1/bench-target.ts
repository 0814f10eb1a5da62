/**
 * Not a test: a benchmark target for comparing the h1 front end with the
 * node:http path in separate processes (wrk drives them from outside).
 * usage: tsx test/h1/bench-target.ts <h1|node> <listenPort> <backendPort>...
 */
import { createServer } from "node:http";
import { handleHttpRequest } from "../../src/dataplane/frontends/node-http/http-proxy";
import type { RouteTable } from "../../src/dataplane/pools/route-table";
import { DEFAULT_TIMEOUTS } from "../../src/dataplane/timeouts";
import { NodeEngine } from "../../src/engines/builtin/node-engine";
import { silentLogger } from "../../src/log";
import { backend, httpListener, makeSnapshot } from "../helpers/snapshot";

const [mode, portArg, ...backendPorts] = process.argv.slice(2);
const port = Number(portArg);
const engine = new NodeEngine({ log: silentLogger });
const h1Port = mode === "h1" ? port : port + 1;
await engine.apply(
  makeSnapshot(
    1,
    [httpListener(h1Port)],
    backendPorts.map((p, i) => backend(`b${i}`, Number(p))),
  ),
);
if (mode === "node") {
  const table = (engine.listenerAt("127.0.0.1", h1Port) as unknown as { h1: { table: RouteTable } }).h1.table;
  const ctx = { table, timeouts: { ...DEFAULT_TIMEOUTS }, log: silentLogger };
  const server = createServer({ joinDuplicateHeaders: false }, (req, res) =>
    handleHttpRequest(ctx, req, res),
  );
  server.keepAliveTimeout = 30_000;
  server.listen(port, "127.0.0.1");
}
console.log("ready");
