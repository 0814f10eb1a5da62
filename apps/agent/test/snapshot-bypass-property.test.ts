import type { Snapshot } from "@fulcrum/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeEngine } from "../src/engines/builtin/node-engine";
import { silentLogger } from "../src/log";
import { type CtlBackend, sleep, startCtlBackend } from "./helpers/backends";
import { freePort, get } from "./helpers/net";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";

/**
 * Defence in depth: a snapshot that bypassed the schema (a hand-edited object,
 * a bug) with a hostile string in any field that reaches a request line, a
 * header or a socket is applied or refused by the engine, and never crashes
 * it, splits a response or injects a header.
 */

const HOSTILE = [
  "X\r\nX-Injected: 1",
  "/a b",
  "/a\r\nX-Injected: 1",
  "a\u0000b",
  "é",
  "",
  " ",
  "x".repeat(10_000),
  "a;b=c",
  "http://127.0.0.1:1/\r\nX-Injected: 1",
  "http://127.0.0.1:1/ x",
];
const hostile = fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: "binary", maxLength: 12 }));

type Mutation = (s: Snapshot, v: string) => void;
const pool0 = (s: Snapshot) => s.pools[0]!;
const route0 = (s: Snapshot) => s.listeners[0]!.routes[0]!;
const MUTATIONS: Record<string, Mutation> = {
  healthPath: (s, v) => {
    pool0(s).healthCheck = { ...pool0(s).healthCheck, type: "http", intervalMs: 100, timeoutMs: 80, path: v };
  },
  expectBody: (s, v) => {
    pool0(s).healthCheck = {
      ...pool0(s).healthCheck,
      type: "http",
      intervalMs: 100,
      timeoutMs: 80,
      expectBody: v,
    };
  },
  cookieName: (s, v) => {
    pool0(s).persistence = { type: "cookie", cookieName: v, ttlSeconds: 60 };
  },
  hashHeader: (s, v) => {
    pool0(s).policy = "consistent_hash";
    pool0(s).policyOptions = { key: "header", keyName: v };
  },
  hashCookie: (s, v) => {
    pool0(s).policy = "consistent_hash";
    pool0(s).policyOptions = { key: "cookie", keyName: v };
  },
  backendAddress: (s, v) => {
    pool0(s).backends[1]!.address = v;
  },
  backendName: (s, v) => {
    pool0(s).backends[0]!.name = v;
  },
  poolName: (s, v) => {
    pool0(s).name = v;
  },
  listenerName: (s, v) => {
    s.listeners[0]!.name = v;
  },
  routeHost: (s, v) => {
    route0(s).host = v;
  },
  pathPrefix: (s, v) => {
    route0(s).pathPrefix = v;
  },
  redirectBase: (s, v) => {
    route0(s).action = "redirect";
    route0(s).redirect = { status: 302, loopGuard: "g" };
    for (const b of pool0(s).backends) b.publicBaseUrl = v;
  },
  loopGuard: (s, v) => {
    route0(s).action = "redirect";
    route0(s).redirect = { status: 302, loopGuard: v };
    for (const b of pool0(s).backends) b.publicBaseUrl = "http://127.0.0.1:1/m";
  },
};

let a: CtlBackend;
let b: CtlBackend;
let engine: NodeEngine;
let port: number;
let good: Snapshot;

beforeAll(async () => {
  [a, b] = await Promise.all([startCtlBackend("a"), startCtlBackend("b")]);
  engine = new NodeEngine({ log: silentLogger, timeouts: { drainGraceMs: 50 } });
  port = await freePort();
  good = makeSnapshot(1, [httpListener(port)], [backend("a", a.port), backend("b", b.port)]);
  await engine.apply(good);
});

afterAll(async () => {
  await engine.stop();
  await Promise.all([a.close(), b.close()]);
});

describe("property: hostile strings that bypassed the schema", () => {
  it("are applied or refused, never crash the engine, split a response or inject a header", {
    timeout: 120_000,
  }, async () => {
    let version = 1;
    const outcomes = { applied: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(MUTATIONS)), hostile, async (field, value) => {
        const s = structuredClone(good);
        s.version = ++version;
        MUTATIONS[field]!(s, value);
        const applied = await engine.apply(s).then(
          () => true,
          (e: { code?: string }) => {
            // Refused as a whole with a stable code, never an internal TypeError.
            expect(["snapshot_invalid", "listener_bind_failed", "policy_unsupported"]).toContain(e.code);
            return false;
          },
        );
        outcomes[applied ? "applied" : "refused"]++;
        // Let health checks of the new config run a round.
        await sleep(applied ? 150 : 0);
        const withCookie: Record<string, string> = { cookie: `${value.replace(/[^\x21-\x7e]/g, "")}=x` };
        for (const headers of [{}, withCookie]) {
          const r = await get(port, "/p?q=1", { headers }).catch((e: Error) => ({ error: e.message }));
          expect(r).not.toHaveProperty("error");
          expect((r as { headers: Record<string, unknown> }).headers["x-injected"]).toBeUndefined();
        }
        // Back to a known config, so each case starts from the same place.
        const reset = structuredClone(good);
        reset.version = ++version;
        await engine.apply(reset);
      }),
      { numRuns: 150, endOnFailure: true },
    );
    console.log(`bypass property: ${outcomes.applied} applied, ${outcomes.refused} refused`);
  });
});
