import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Actor } from "../src/server/domain/actor";
import { callerAs, startTestConsole, type TestConsole } from "./support/console";

const ADMIN = { email: "admin@example.com", password: "correct horse battery" };

interface TrpcAnswer {
  status: number;
  error?: {
    message: string;
    data?: { code?: string; appCode?: string | null; fieldErrors?: Record<string, string> | null };
  };
}

/**
 * Strict input through the real tRPC HTTP endpoint: nothing is coerced (the
 * outside tester's cases: a weight of null, "", [] or true, a port "0x50"), no
 * control character reaches the database, and a database refusal is never
 * shown to the client in the driver's words.
 */
describe("strict input over HTTP", () => {
  let c: TestConsole;
  let token: string;
  let adminToken: string;
  let poolId: string;
  let backendId: string;

  async function mutate(path: string, json: unknown, bearer = token): Promise<TrpcAnswer> {
    const res = await fetch(`${c.url}/api/trpc/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ json }),
    });
    const body = (await res.json()) as { error?: { json?: TrpcAnswer["error"] } };
    return { status: res.status, ...(body.error?.json ? { error: body.error.json } : {}) };
  }

  /** Everything a refused write could have changed. */
  async function topology() {
    const p = c.services.prisma;
    return JSON.stringify({
      backends: await p.backend.findMany({ orderBy: { id: "asc" } }),
      pools: await p.pool.findMany({ orderBy: { id: "asc" } }),
      listeners: await p.listener.findMany({ orderBy: { id: "asc" } }),
      clusters: await p.cluster.findMany({ orderBy: { id: "asc" } }),
      versions: await p.configVersion.count(),
    });
  }

  beforeAll(async () => {
    c = await startTestConsole({ FULCRUM_ADMIN_EMAIL: ADMIN.email, FULCRUM_ADMIN_PASSWORD: ADMIN.password });
    const user = await c.services.prisma.user.findFirstOrThrow({ where: { role: "admin" } });
    const admin: Actor = { kind: "user", id: user.id, name: user.email, role: "admin" };
    token = (await callerAs(c, admin).token.create({ name: "strict", role: "operator" })).secret;
    adminToken = (await callerAs(c, admin).token.create({ name: "strict-admin", role: "admin" })).secret;
    const cluster = await c.services.prisma.cluster.findFirstOrThrow();
    const op = callerAs(c, { kind: "user", id: null, name: "op@test", role: "operator" });
    poolId = (await op.pool.create({ clusterId: cluster.id, name: "web" })).id;
    backendId = (await op.backend.create({ poolId, address: "10.0.0.1", port: 8080, weight: 10 })).id;
  });
  afterAll(async () => {
    await c?.stop();
  });

  const cases: Array<{
    what: string;
    field: string;
    input: (ids: { poolId: string; backendId: string }) => unknown;
    path: string;
  }> = [
    {
      what: "a weight of null",
      path: "backend.update",
      field: "weight",
      input: (i) => ({ id: i.backendId, weight: null }),
    },
    {
      what: 'a weight of ""',
      path: "backend.update",
      field: "weight",
      input: (i) => ({ id: i.backendId, weight: "" }),
    },
    {
      what: "a weight of []",
      path: "backend.update",
      field: "weight",
      input: (i) => ({ id: i.backendId, weight: [] }),
    },
    {
      what: "a weight of true",
      path: "backend.update",
      field: "weight",
      input: (i) => ({ id: i.backendId, weight: true }),
    },
    {
      what: 'a weight of "50"',
      path: "backend.update",
      field: "weight",
      input: (i) => ({ id: i.backendId, weight: "50" }),
    },
    {
      what: 'a port of "0x50"',
      path: "backend.create",
      field: "port",
      input: (i) => ({ poolId: i.poolId, address: "10.0.0.2", port: "0x50" }),
    },
    {
      what: "a port of null",
      path: "backend.create",
      field: "port",
      input: (i) => ({ poolId: i.poolId, address: "10.0.0.2", port: null }),
    },
    {
      what: "a NUL in a backend name",
      path: "backend.create",
      field: "name",
      input: (i) => ({ poolId: i.poolId, address: "10.0.0.2", port: 80, name: "app\u0000one" }),
    },
    {
      what: "a line break in a backend name",
      path: "backend.update",
      field: "name",
      input: (i) => ({ id: i.backendId, name: "app\r\nX-Injected: 1" }),
    },
    {
      what: "a NUL in a public base URL",
      path: "backend.update",
      field: "publicBaseUrl",
      input: (i) => ({ id: i.backendId, publicBaseUrl: "https://mirror.example.com/\u0000" }),
    },
    {
      what: "a maxConnections of false",
      path: "backend.update",
      field: "maxConnections",
      input: (i) => ({ id: i.backendId, maxConnections: false }),
    },
    {
      what: 'a slow start of "1e3"',
      path: "pool.update",
      field: "slowStartMs",
      input: (i) => ({ id: i.poolId, slowStartMs: "1e3" }),
    },
  ];

  for (const t of cases) {
    it(`refuses ${t.what} with 400 naming the field, and changes nothing`, async () => {
      const before = await topology();
      const res = await mutate(t.path, t.input({ poolId, backendId }));
      expect(res.status).toBe(400);
      expect(res.error?.data?.code).toBe("BAD_REQUEST");
      expect(Object.keys(res.error?.data?.fieldErrors ?? {})).toContain(t.field);
      expect(await topology()).toBe(before);
    });
  }

  it("refuses control characters in every free-text field, not only the topology's", async () => {
    const before = await c.services.prisma.apiToken.count();
    const named = await mutate("token.create", { name: "ci\u0000bot", role: "viewer" }, adminToken);
    expect(named.status).toBe(400);
    expect(named.error?.data?.fieldErrors?.name).toMatch(/control characters/);
    const cluster = await c.services.prisma.cluster.findFirstOrThrow();
    const enroll = await mutate(
      "agent.createEnrollmentToken",
      { clusterId: cluster.id, name: "edge\u0007" },
      adminToken,
    );
    expect(enroll.status).toBe(400);
    expect(enroll.error?.data?.fieldErrors?.name).toMatch(/control characters/);
    const hours = await mutate(
      "agent.createEnrollmentToken",
      { clusterId: cluster.id, expiresInHours: "24" },
      adminToken,
    );
    expect(hours.status).toBe(400);
    expect(Object.keys(hours.error?.data?.fieldErrors ?? {})).toContain("expiresInHours");
    expect(await c.services.prisma.apiToken.count()).toBe(before);
    expect(await c.services.prisma.enrollmentToken.count()).toBe(0);
  });

  it("still takes well-formed numbers and names", async () => {
    const res = await mutate("backend.update", { id: backendId, weight: 0, name: "app-1 (rack 3, ünïcode)" });
    expect(res.status).toBe(200);
    const b = await c.services.prisma.backend.findUniqueOrThrow({ where: { id: backendId } });
    expect(b.weight).toBe(0);
    expect(b.name).toBe("app-1 (rack 3, ünïcode)");
  });

  it("answers a value the database refuses with a generic error and a request id, never the driver's message", async () => {
    // A rule the schemas do not know, so the write gets as far as PostgreSQL.
    await c.services.prisma.$executeRawUnsafe(
      `ALTER TABLE backends ADD CONSTRAINT strict_input_test_weight CHECK (weight <> 77)`,
    );
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const before = await topology();
      const res = await fetch(`${c.url}/api/trpc/backend.update`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ json: { id: backendId, weight: 77 } }),
      });
      const text = await res.text();
      expect(res.status).toBe(500);
      expect(text).not.toMatch(/strict_input_test_weight|constraint|violat|prisma|postgres|invocation/i);
      const requestId = res.headers.get("x-request-id");
      expect(requestId).toMatch(/^[0-9a-f]{16}$/);
      const error = (JSON.parse(text) as { error: { json: TrpcAnswer["error"] } }).error.json;
      expect(error?.message).toContain(requestId);
      expect(error?.data?.appCode).toBe("INTERNAL");
      // The log has the cause, under the same id.
      const logged = errors.mock.calls.map((args) => args.join(" ")).find((l) => l.includes(requestId!));
      expect(logged).toMatch(/strict_input_test_weight/);
      expect(await topology()).toBe(before);
    } finally {
      errors.mockRestore();
      await c.services.prisma.$executeRawUnsafe(
        `ALTER TABLE backends DROP CONSTRAINT strict_input_test_weight`,
      );
    }
  });
});
