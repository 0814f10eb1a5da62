import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect, type IncomingHttpHeaders } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Snapshot, snapshotSchema } from "@fulcrum/protocol";
import { Metadata } from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, spawnAgent } from "./helpers/agent-process";
import { sleep, until } from "./helpers/backends";
import {
  type EchoClient,
  echoClient,
  type GrpcBackend,
  grpcStatus,
  type Msg,
  startGrpcBackend,
  unary,
} from "./helpers/grpc-backend";
import { freePort } from "./helpers/net";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";

/*
 * gRPC end to end (issue 18) through a real agent process: @grpc/grpc-js
 * clients speak h2c to the agent's HTTP/2 front end, the pool speaks h2c to
 * @grpc/grpc-js servers. All four call kinds with trailers, per-call
 * balancing over one client connection, the agent's own answers as gRPC
 * statuses, grpc-timeout, and a backend killed under load.
 */

const AUTHORITY = "grpc.test";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fulcrum-grpc-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A plain listener with h2c for `grpc.test` only, pool p1 speaking h2c to `backends`. */
function grpcSnapshot(port: number, backends: GrpcBackend[], pool: Record<string, unknown> = {}): Snapshot {
  const base = makeSnapshot(
    1,
    [
      httpListener(port, {
        routes: [{ id: "r1", host: AUTHORITY, pathPrefix: "/", priority: 0, poolId: "p1" }],
      }),
    ],
    backends.map((b) => backend(b.name, b.port)),
    "round_robin",
    [],
    { retries: { enabled: true, attempts: 2 }, ...pool },
  );
  const s = structuredClone(base) as unknown as {
    listeners: Record<string, unknown>[];
    pools: Record<string, unknown>[];
  };
  s.listeners[0]!.http2 = { h2c: true };
  s.pools[0]!.upstream = { protocol: "h2c" };
  return snapshotSchema.parse(s);
}

async function startAgent(snapshot: Snapshot, name: string): Promise<AgentProcess> {
  const file = join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(snapshot), { mode: 0o600 });
  const agent = spawnAgent(["--config", file]);
  await agent.waitFor(/applied snapshot version=1\b/);
  return agent;
}

type Stream<T> = { on(e: string, f: (x: T) => void): unknown; write(m: Msg): unknown; end(): unknown };

/** Resolves with the messages a call streamed and its final status. */
function finish<T>(call: Stream<T>) {
  return new Promise<{ messages: Msg[]; code: number; trailers: Record<string, unknown> }>((resolve) => {
    const messages: Msg[] = [];
    call.on("data", (m) => messages.push(m as unknown as Msg));
    call.on("error", () => {});
    call.on("status", (s) => {
      const st = s as unknown as { code: number; details: string; metadata: Metadata };
      resolve({ messages, code: st.code, trailers: st.metadata.getMap() });
    });
  });
}

describe("gRPC through a real agent (h2c both sides)", () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const backends = async (n: number) => {
    const bs = await Promise.all(Array.from({ length: n }, (_, i) => startGrpcBackend(`g${i + 1}`)));
    cleanups.push(() => Promise.all(bs.map((b) => b.close())));
    return bs;
  };
  const agentFor = async (snap: Snapshot, name: string) => {
    const agent = await startAgent(snap, name);
    cleanups.push(() => agent.stop());
    return agent;
  };
  const client = (port: number, authority = AUTHORITY) => {
    const c = echoClient(port, authority);
    cleanups.push(() => c.close());
    return c;
  };

  it("unary, client-, server- and bidi-streaming calls pass with their trailers", async () => {
    const [g1] = await backends(1);
    const port = await freePort();
    await agentFor(grpcSnapshot(port, [g1!]), "kinds");
    const c = client(port);

    const u = await unary(c, { text: "hi" });
    expect(u).toMatchObject({
      code: grpcStatus.OK,
      value: { text: "g1:hi" },
      trailers: { "x-backend": "g1" },
    });

    const collect = await new Promise<{ code: number; value?: Msg }>((resolve) => {
      const call = (c.collect as (...a: unknown[]) => Stream<Msg>)(
        new Metadata(),
        (e: { code: number } | null, r?: Msg) => resolve({ code: e?.code ?? 0, value: r }),
      );
      for (const t of ["a", "b", "c"]) call.write({ text: t });
      call.end();
    });
    expect(collect).toEqual({ code: grpcStatus.OK, value: { text: "g1:a,b,c" } });

    const count = await finish((c.count as (...a: unknown[]) => Stream<Msg>)({ text: "", n: 5 }));
    expect(count.code).toBe(grpcStatus.OK);
    expect(count.messages.map((m) => m.text)).toEqual(["g1:0", "g1:1", "g1:2", "g1:3", "g1:4"]);
    expect(count.trailers["x-backend"]).toBe("g1");

    const chat = (c.chat as (...a: unknown[]) => Stream<Msg>)();
    const done = finish(chat);
    chat.write({ text: "x" });
    chat.write({ text: "y" });
    await sleep(50);
    chat.write({ text: "z" });
    chat.end();
    const r = await done;
    expect(r.code).toBe(grpcStatus.OK);
    expect(r.messages.map((m) => m.text)).toEqual(["g1:x", "g1:y", "g1:z"]);
    expect(r.trailers["x-backend"]).toBe("g1");
  });

  it("balances per call: one client connection is spread over every backend", async () => {
    const bs = await backends(3);
    const port = await freePort();
    await agentFor(grpcSnapshot(port, bs), "spread");
    const c = client(port);
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const r = await unary(c, { text: String(i) });
      expect(r.code).toBe(grpcStatus.OK);
      seen.add(String(r.trailers["x-backend"]));
    }
    expect([...seen].sort()).toEqual(["g1", "g2", "g3"]);
    expect(bs.map((b) => b.calls)).toEqual([4, 4, 4]);
  });

  it("answers with gRPC statuses when it answers itself: no route, no backend, deadline", async () => {
    const [g1] = await backends(1);
    const port = await freePort();
    await agentFor(grpcSnapshot(port, [g1!]), "local");
    const noRoute = await unary(client(port, "other.test"), { text: "x" });
    expect(noRoute.code).toBe(grpcStatus.UNIMPLEMENTED);

    // grpc-timeout bounds the upstream wait: the agent answers DEADLINE_EXCEEDED itself (raw client,
    // so the answer is not the client's own deadline).
    const session = connect(`http://127.0.0.1:${port}`);
    cleanups.push(() => session.close());
    session.on("error", () => {});
    const frame = (m: Msg) => {
      const body = Buffer.from(JSON.stringify(m));
      const head = Buffer.alloc(5);
      head.writeUInt32BE(body.length, 1);
      return Buffer.concat([head, body]);
    };
    const raw = (headers: Record<string, string>) =>
      new Promise<IncomingHttpHeaders>((resolve) => {
        const s = session.request({
          ":method": "POST",
          ":path": "/fulcrum.test.Echo/Unary",
          ":authority": AUTHORITY,
          "content-type": "application/grpc",
          te: "trailers",
          ...headers,
        });
        let head: IncomingHttpHeaders = {};
        s.on("response", (h) => {
          head = h;
        });
        s.on("trailers", (t) => {
          head = { ...head, ...t };
        });
        s.on("data", () => {});
        s.on("close", () => resolve(head));
        s.end(frame({ text: "slow", n: 2000 }));
      });
    const late = await raw({ "grpc-timeout": "100m" });
    expect(late[":status"]).toBe(200);
    expect(late["grpc-status"]).toBe(String(grpcStatus.DEADLINE_EXCEEDED));
    expect(late["x-fulcrum-reason"]).toBe("grpc-deadline-exceeded");

    await g1!.close();
    const gone = await raw({});
    expect(gone[":status"]).toBe(200);
    expect(gone["grpc-status"]).toBe(String(grpcStatus.UNAVAILABLE));
  });

  it("a backend killed under load: only calls that had started on it fail (UNAVAILABLE), new calls go to the others", async () => {
    const [g1, g2] = await backends(2);
    const port = await freePort();
    await agentFor(grpcSnapshot(port, [g1!, g2!]), "kill");
    const c: EchoClient = client(port);
    // Long server-streaming calls on both backends, then g1 dies.
    const running = Array.from({ length: 4 }, () =>
      finish((c.count as (...a: unknown[]) => Stream<Msg>)({ text: "", n: 60 })),
    );
    expect(await until(() => g1!.calls + g2!.calls === 4, 5000)).toBe(true);
    await sleep(50);
    const g1Calls = g1!.calls;
    expect(g1Calls).toBeGreaterThan(0);
    g1!.kill();
    const results = await Promise.all(running);
    const failed = results.filter((r) => r.code !== grpcStatus.OK);
    expect(failed.length).toBe(g1Calls);
    for (const r of failed) expect(r.code).toBe(grpcStatus.UNAVAILABLE);
    for (const r of results.filter((x) => x.code === grpcStatus.OK))
      expect(r.trailers["x-backend"]).toBe("g2");
    // New calls: the dead backend refuses connections, each is retried on g2 and succeeds.
    for (let i = 0; i < 6; i++) {
      const r = await unary(c, { text: String(i) });
      expect(r.code).toBe(grpcStatus.OK);
      expect(r.trailers["x-backend"]).toBe("g2");
    }
  });
});
