import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  isCookieName,
  isPrintableText,
  jsonWithin,
  POLICIES,
  POLICY_OPTIONS_BOUNDS,
  type SnapshotInput,
  snapshotSchema,
} from "@fulcrum/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN as HAPROXY_BIN } from "./haproxy/fixtures";
import { type AgentProcess, spawnAgent } from "./helpers/agent-process";
import { freePort, get, type NamedBackend, startBackend } from "./helpers/net";
import { credentialJson, type StandInConsole, startStandInConsole } from "./helpers/stand-in-console";

/**
 * Property: every snapshot the protocol schema accepts, hostile strings
 * included wherever the schema lets strings through, is one a real agent
 * applies (ack) or refuses (nack), and through all of them the agent stays up
 * and its first listener keeps answering, with no header a snapshot string
 * could have injected.
 */

type PoolIn = SnapshotInput["pools"][number];
type ListenerIn = SnapshotInput["listeners"][number];
type RouteIn = ListenerIn["routes"][number];

/** Printable, but everything a log line, a config file or a shell would choke on. */
const HOSTILE_TEXT = [
  "",
  " ",
  "a b",
  `"quoted" 'single'`,
  "key=value other=1",
  "back\\slash",
  "$" + "{HOME}$(id)`id`",
  "%s%n%x",
  "<script>alert(1)</script>",
  "\\r\\nX-Injected: 1",
  "café ☕ 🚀 Ωmega",
  "שלום עולם",
  "x".repeat(128),
];
const text = (min: number) =>
  fc
    .oneof(
      fc.constantFrom(...HOSTILE_TEXT),
      fc.string({ unit: "grapheme", maxLength: 24 }),
      fc.string({ unit: "binary", maxLength: 24 }),
    )
    .filter((s) => s.length >= min && isPrintableText(s, 128));

const TCHARS = "!#$%&'*+-.^_`|~abcXYZ019";
const token = (max: number) =>
  fc
    .string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: max })
    .filter((s) => isCookieName(s));

const PCHARS = [
  "a",
  "Z",
  "0",
  "-",
  ".",
  "_",
  "~",
  "!",
  "$",
  "&",
  "'",
  "(",
  ")",
  "*",
  "+",
  ",",
  ";",
  "=",
  ":",
  "@",
  "%20",
  "%2F",
  "%00",
  "%0D%0A",
];
const segment = fc.array(fc.constantFrom(...PCHARS), { maxLength: 6 }).map((a) => a.join(""));
const absolutePath = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join("/")}`);
const originForm = fc
  .tuple(absolutePath, fc.option(fc.array(fc.constantFrom(...PCHARS, "/", "?"), { maxLength: 8 })))
  .map(([p, q]) => (q === null ? p : `${p}?${q.join("")}`));

const hostname = fc.constantFrom(
  "example.com",
  "API.Example.COM",
  "a-b.c-d.example",
  "x",
  "1a.example",
  "xn--e1a.example",
);
const routeHost = fc.oneof(
  fc.constant(""),
  hostname,
  hostname.map((h) => `*.${h.includes(".") ? h : `${h}.example`}`),
);

const healthCheck = fc.record({
  type: fc.constantFrom("none", "http", "tcp"),
  intervalMs: fc.integer({ min: 100, max: 2000 }),
  timeoutMs: fc.integer({ min: 50, max: 500 }),
  rise: fc.integer({ min: 1, max: 3 }),
  fall: fc.integer({ min: 1, max: 3 }),
  path: originForm,
  method: fc.constantFrom("GET", "HEAD", "OPTIONS"),
  expectStatus: fc.tuple(fc.integer({ min: 100, max: 599 }), fc.integer({ min: 100, max: 599 })),
  expectBody: fc.option(text(0), { nil: undefined }),
});

const persistence = fc.record({
  type: fc.constantFrom("none", "cookie", "source_ip"),
  cookieName: token(64),
  ttlSeconds: fc.integer({ min: 1, max: 3600 }),
});

const junkOptions = fc
  .dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
  .filter((o) => jsonWithin(o, POLICY_OPTIONS_BOUNDS));
const policyAndOptions: fc.Arbitrary<[PoolIn["policy"], Record<string, unknown>]> = fc.oneof(
  fc.tuple(fc.constantFrom(...POLICIES.filter((p) => p !== "consistent_hash")), junkOptions),
  fc.tuple(
    fc.constant("consistent_hash" as const),
    fc.record({
      key: fc.constantFrom("client_ip", "header", "cookie", "path"),
      keyName: token(40),
      algorithm: fc.constantFrom("ring", "maglev"),
    }),
  ),
);

interface World {
  /** Ports of live backends; `closed` is a port nothing listens on. */
  backends: number[];
  closed: number;
  /** Free ports for generated listeners. */
  ports: number[];
  anchorPort: number;
  anchorBackend: number;
  /** Settings of the anchor pool (the engine must accept them). */
  anchorPool: object;
}

function backendsArb(w: World, poolIndex: number) {
  const address = fc.oneof(
    fc.constant({ address: "127.0.0.1", port: w.backends[0]! }),
    fc.constant({ address: "127.0.0.1", port: w.backends[1]! }),
    fc.constant({ address: "127.0.0.1", port: w.closed }),
    fc.constant({ address: "localhost", port: w.backends[0]! }),
    fc.constant({ address: "::1", port: w.closed }),
  );
  return fc.uniqueArray(address, { maxLength: 4, selector: (a) => `${a.address}:${a.port}` }).chain((addrs) =>
    fc.tuple(
      ...addrs.map((a, i) =>
        fc.record({
          id: fc.constant(`b${poolIndex}-${i}`),
          name: text(0),
          address: fc.constant(a.address),
          port: fc.constant(a.port),
          weight: fc.integer({ min: 0, max: 256 }),
          state: fc.constantFrom("enabled", "draining", "disabled"),
          backup: fc.boolean(),
          maxConnections: fc.option(fc.integer({ min: 1, max: 10 }), { nil: null }),
          publicBaseUrl: fc.option(
            fc.constantFrom("http://127.0.0.1:1/mirror", "https://m.example.com/a'b(c)"),
            {
              nil: null,
            },
          ),
        }),
      ),
    ),
  );
}

function poolArb(w: World, i: number): fc.Arbitrary<PoolIn> {
  return fc
    .record({
      name: text(1),
      policy: policyAndOptions,
      healthCheck,
      persistence,
      slowStartMs: fc.integer({ min: 0, max: 5000 }),
      outlierDetection: fc.record({
        enabled: fc.boolean(),
        consecutiveFailures: fc.integer({ min: 1, max: 10 }),
      }),
      retries: fc.record({ enabled: fc.boolean(), attempts: fc.integer({ min: 0, max: 5 }) }),
      limits: fc.record({
        maxConnectionsPerBackend: fc.integer({ min: 0, max: 10 }),
        queueSize: fc.integer({ min: 0, max: 10 }),
        queueTimeoutMs: fc.integer({ min: 1, max: 1000 }),
      }),
      backends: backendsArb(w, i),
    })
    .map(
      ({ policy: [policy, policyOptions], ...p }) => ({ id: `g${i}`, policy, policyOptions, ...p }) as PoolIn,
    );
}

function routeArb(listenerIndex: number, protocol: string, poolIds: string[]) {
  return (i: number): fc.Arbitrary<RouteIn> =>
    fc.record({
      id: fc.constant(`r${listenerIndex}-${i}`),
      host: routeHost,
      pathPrefix: absolutePath,
      priority: fc.integer({ min: -5, max: 5 }),
      poolId: fc.constantFrom(...poolIds),
      action: protocol === "http" ? fc.constantFrom("proxy", "redirect") : fc.constant("proxy"),
      redirect: fc.record({
        status: fc.constantFrom(302, 307),
        loopGuard: fc.constantFrom("fulcrum_redirected", "a.b-c_d"),
      }),
    }) as fc.Arbitrary<RouteIn>;
}

function snapshotArb(
  w: World,
): fc.Arbitrary<Omit<SnapshotInput, "version" | "hash" | "createdAt" | "clusterId">> {
  return fc.integer({ min: 0, max: 2 }).chain((poolCount) => {
    const pools = fc.tuple(...Array.from({ length: poolCount }, (_, i) => poolArb(w, i)));
    const poolIds = ["anchor", ...Array.from({ length: poolCount }, (_, i) => `g${i}`)];
    const listener = (i: number) =>
      fc
        .record({
          protocol: fc.constantFrom("http", "tcp", "dns"),
          name: text(1),
          bindAddress: fc.constantFrom("127.0.0.1", "localhost", "::1", "0.0.0.0"),
          routeCount: fc.integer({ min: 0, max: 3 }),
        })
        .chain(({ protocol, routeCount, ...l }) =>
          fc
            .tuple(
              ...Array.from({ length: protocol === "tcp" ? Math.max(1, routeCount) : routeCount }, (_, r) =>
                routeArb(i, protocol, poolIds)(r),
              ),
            )
            .map((routes) => ({ id: `l${i}`, protocol, port: w.ports[i]!, routes, ...l }) as ListenerIn),
        );
    const listeners = fc
      .integer({ min: 0, max: 2 })
      .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => listener(i))));
    return fc.tuple(pools, listeners).map(([ps, ls]) => ({
      listeners: [
        {
          id: "anchor",
          name: "anchor",
          protocol: "http" as const,
          bindAddress: "127.0.0.1",
          port: w.anchorPort,
          routes: [{ id: "anchor", host: "", pathPrefix: "/", priority: -100, poolId: "anchor" }],
        },
        ...ls,
      ],
      pools: [
        {
          id: "anchor",
          name: "anchor",
          policy: "round_robin" as const,
          policyOptions: {},
          healthCheck: {},
          persistence: {},
          ...w.anchorPool,
          backends: [
            {
              id: "anchor",
              name: "",
              address: "127.0.0.1",
              port: w.anchorBackend,
              weight: 1,
              state: "enabled" as const,
              backup: false,
            },
          ],
        },
        ...ps,
      ],
    }));
  });
}

let backends: NamedBackend[];
let dir: string;

beforeAll(async () => {
  backends = await Promise.all(["anchor", "b0", "b1"].map((n) => startBackend(n)));
  dir = await mkdtemp(join(tmpdir(), "fulcrum-prop-"));
});

afterAll(async () => {
  await Promise.all(backends.map((b) => b.close()));
  await rm(dir, { recursive: true, force: true });
});

/** The HAProxy engine refuses outlier detection and retry budgets below 100 %: its anchor pool does without. */
const ANCHOR_POOL_FOR = {
  builtin: {},
  haproxy: {
    outlierDetection: { enabled: false },
    retries: { enabled: true, attempts: 1, budgetPercent: 100 },
  },
} as const;

describe.each([
  ["builtin", [], 120],
  // HAProxy NACKs most generated snapshots (default outlier detection, DNS, redirects, ...): about
  // 1 in 8 is acked, so 30 runs saw no ack at all in about 1 of 60 runs; 80 make that ~1 in 40,000.
  ["haproxy", ["--engine", "haproxy", "--haproxy-bin", HAPROXY_BIN], 80],
] as const)(
  "property (%s engine): schema-valid snapshots never take a real agent down",
  (engine, engineArgs, numRuns) => {
    let console_: StandInConsole;
    let agent: AgentProcess;
    let world: World;

    beforeAll(async () => {
      console_ = await startStandInConsole();
      const stateDir = join(dir, engine);
      await mkdir(stateDir, { mode: 0o700 });
      await writeFile(join(stateDir, "credential.json"), credentialJson(console_.url), { mode: 0o600 });
      world = {
        anchorBackend: backends[0]!.port,
        backends: [backends[1]!.port, backends[2]!.port],
        closed: await freePort(),
        anchorPort: await freePort(),
        ports: [await freePort(), await freePort()],
        anchorPool: ANCHOR_POOL_FOR[engine],
      };
      agent = spawnAgent(["--console", console_.url, "--state-dir", stateDir, ...engineArgs], {
        FULCRUM_LOG_LEVEL: "info",
      });
    });

    afterAll(async () => {
      await agent?.stop();
      console_?.close();
    });

    it("acks or nacks each one and keeps serving its first listener", { timeout: 180_000 }, async () => {
      const ws = await console_.welcomed();
      let version = 0;
      const outcomes = { ack: 0, nack: 0 };
      const publish = (body: object) => {
        version++;
        const hash = createHash("sha256").update(JSON.stringify(body)).digest("hex");
        return snapshotSchema.safeParse({
          version,
          hash,
          clusterId: "c1",
          createdAt: new Date().toISOString(),
          ...body,
        });
      };
      // The first listener serves before any generated snapshot, so "keeps serving" means something from the start.
      const first = publish(
        fc.sample(
          snapshotArb(world).map((b) => ({
            ...b,
            listeners: b.listeners.slice(0, 1),
            pools: b.pools.slice(0, 1),
          })),
          1,
        )[0]!,
      );
      console_.push(ws, first.data);
      expect(await console_.answer(version, 30_000)).toMatchObject({ type: "ack" });
      await fc.assert(
        fc.asyncProperty(snapshotArb(world), async (body) => {
          const parsed = publish(body);
          // The generator stays inside the schema; a miss here is a bug in this test, shown with the issue.
          expect(parsed.error?.issues[0]).toBeUndefined();
          console_.push(ws, parsed.data);
          const answer = await console_.answer(version, 20_000);
          outcomes[answer.type as "ack" | "nack"]++;
          expect(agent.child.exitCode).toBeNull();
          const r = await get(world.anchorPort, "/");
          expect(r.status).toBe(200);
          expect(r.body).toBe("anchor");
          expect(r.headers["x-injected"]).toBeUndefined();
          // Each generated http listener answers something sane, whatever its settings.
          if (answer.type === "ack") {
            for (const l of parsed.data!.listeners.slice(1)) {
              if (l.protocol !== "http" || l.bindAddress === "::1") continue;
              const host =
                l.bindAddress === "0.0.0.0" || l.bindAddress === "localhost" ? "127.0.0.1" : l.bindAddress;
              const g = await get(l.port, "/a?b=1", { host: `${host}:${l.port}` }).catch(() => undefined);
              if (g) expect(g.headers["x-injected"]).toBeUndefined();
            }
          }
        }),
        { numRuns, endOnFailure: true },
      );
      expect(agent.child.exitCode).toBeNull();
      console.log(
        `property (${engine}): ${version} snapshots, ${outcomes.ack} acked, ${outcomes.nack} nacked`,
      );
      expect(outcomes.ack).toBeGreaterThan(0);
      // No bug was contained along the way either: contained errors are bugs, just not fatal ones.
      expect(agent.stderr()).not.toMatch(/internal error contained/);
    });
  },
);
