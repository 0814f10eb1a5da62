import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../src/server/domain/actor";
import { appRouter } from "../src/server/trpc/root";
import { actors, callerAs, startTestConsole, type TestConsole } from "./support/console";

type Who = "anonymous" | "viewer" | "operator" | "admin";
const ANYONE: Who[] = ["anonymous", "viewer", "operator", "admin"];
const SIGNED_IN: Who[] = ["viewer", "operator", "admin"];
const OPERATORS: Who[] = ["operator", "admin"];
const ADMINS: Who[] = ["admin"];

const missing = "00000000-0000-4000-8000-000000000000";

/**
 * The authorization spec, written independently of the permission table: who
 * may call each procedure, and an input that passes validation. Adding a
 * procedure without a row here fails the first test.
 */
const SPEC: Record<string, { allowed: Who[]; input?: unknown }> = {
  "setup.status": { allowed: ANYONE },
  "setup.createAdmin": {
    allowed: ANYONE,
    input: { name: "x", email: "x@example.com", password: "0123456789ab" },
  },
  "setup.me": { allowed: SIGNED_IN },
  "cluster.list": { allowed: SIGNED_IN },
  "cluster.create": { allowed: OPERATORS, input: { name: "c" } },
  "cluster.rename": { allowed: OPERATORS, input: { id: missing, name: "c2" } },
  "cluster.delete": { allowed: OPERATORS, input: { id: missing } },
  "listener.list": { allowed: SIGNED_IN, input: { clusterId: missing } },
  "listener.create": { allowed: OPERATORS, input: { clusterId: missing, name: "l", port: 8080 } },
  "listener.update": { allowed: OPERATORS, input: { id: missing, port: 8081 } },
  "listener.delete": { allowed: OPERATORS, input: { id: missing } },
  "certificate.list": { allowed: SIGNED_IN, input: { clusterId: missing } },
  "certificate.get": { allowed: SIGNED_IN, input: { id: missing } },
  "certificate.upload": {
    allowed: OPERATORS,
    input: { clusterId: missing, name: "c", chainPem: "x", keyPem: "x" },
  },
  "certificate.uploadPkcs12": {
    allowed: OPERATORS,
    input: { clusterId: missing, name: "c1", pkcs12: "AAAA", password: "" },
  },
  "certificate.replace": { allowed: OPERATORS, input: { id: missing, chainPem: "x", keyPem: "x" } },
  "certificate.rename": { allowed: OPERATORS, input: { id: missing, name: "c2" } },
  "certificate.delete": { allowed: OPERATORS, input: { id: missing } },
  "certificate.caList": { allowed: SIGNED_IN, input: { clusterId: missing } },
  "certificate.caUpload": { allowed: OPERATORS, input: { clusterId: missing, name: "ca", pem: "x" } },
  "certificate.caDelete": { allowed: OPERATORS, input: { id: missing } },
  "certificate.acmeList": { allowed: SIGNED_IN, input: { clusterId: missing } },
  "certificate.ticketKeys": { allowed: SIGNED_IN, input: { clusterId: missing } },
  "certificate.acmeCreate": {
    allowed: OPERATORS,
    input: { clusterId: missing, name: "a", names: ["a.test"] },
  },
  "certificate.acmeRenewNow": { allowed: OPERATORS, input: { id: missing } },
  "certificate.acmeDelete": { allowed: OPERATORS, input: { id: missing } },
  "route.create": { allowed: OPERATORS, input: { listenerId: missing, poolId: missing } },
  "route.update": { allowed: OPERATORS, input: { id: missing, priority: 1 } },
  "route.delete": { allowed: OPERATORS, input: { id: missing } },
  "pool.list": { allowed: SIGNED_IN, input: { clusterId: missing } },
  "pool.get": { allowed: SIGNED_IN, input: { id: missing } },
  "pool.board": { allowed: SIGNED_IN, input: { clusterId: missing } },
  "pool.summary": { allowed: SIGNED_IN, input: { id: missing } },
  "pool.backends": { allowed: SIGNED_IN, input: { poolId: missing } },
  "pool.cardMetrics": { allowed: SIGNED_IN, input: { clusterId: missing, poolId: missing, ids: [missing] } },
  "pool.create": { allowed: OPERATORS, input: { clusterId: missing, name: "p" } },
  "pool.update": { allowed: OPERATORS, input: { id: missing, policy: "round_robin" } },
  "pool.delete": { allowed: OPERATORS, input: { id: missing } },
  "backend.create": { allowed: OPERATORS, input: { poolId: missing, address: "127.0.0.1", port: 9000 } },
  "backend.createMany": {
    allowed: OPERATORS,
    input: { poolId: missing, backends: [{ address: "127.0.0.1", port: 9000 }] },
  },
  "backend.update": { allowed: OPERATORS, input: { id: missing, weight: 5 } },
  "backend.setState": { allowed: OPERATORS, input: { id: missing, state: "draining" } },
  "backend.delete": { allowed: OPERATORS, input: { id: missing } },
  "backend.move": { allowed: OPERATORS, input: { moves: [{ id: missing, poolId: missing }] } },
  "backend.bulkSetState": { allowed: OPERATORS, input: { ids: [missing], state: "draining" } },
  "backend.bulkSetWeight": { allowed: OPERATORS, input: { ids: [missing], weight: 10 } },
  "change.preview": {
    allowed: OPERATORS,
    input: { kind: "backend.move", input: { moves: [{ id: missing, poolId: missing }] } },
  },
  "change.rollout": { allowed: SIGNED_IN, input: { clusterId: missing, version: 1 } },
  "agent.list": { allowed: SIGNED_IN, input: { clusterId: missing } },
  "agent.gatewayPath": { allowed: SIGNED_IN },
  "agent.createEnrollmentToken": { allowed: ADMINS, input: { clusterId: missing } },
  "agent.enrollmentTokens": { allowed: ADMINS, input: { clusterId: missing } },
  "agent.revokeEnrollmentToken": { allowed: ADMINS, input: { id: missing } },
  "agent.revoke": { allowed: ADMINS, input: { id: missing } },
  "agent.delete": { allowed: ADMINS, input: { id: missing } },
  "config.versions": { allowed: SIGNED_IN, input: { clusterId: missing } },
  "config.get": { allowed: SIGNED_IN, input: { clusterId: missing, version: 1 } },
  "config.diff": { allowed: SIGNED_IN, input: { clusterId: missing, version: 1 } },
  "config.rollback": { allowed: OPERATORS, input: { clusterId: missing, version: 1 } },
  "audit.list": { allowed: SIGNED_IN, input: {} },
  "user.list": { allowed: ADMINS },
  "user.create": {
    allowed: ADMINS,
    input: { name: "n", email: "n@example.com", password: "0123456789ab", role: "viewer" },
  },
  "user.update": { allowed: ADMINS, input: { id: missing, role: "viewer" } },
  "user.resetPassword": { allowed: ADMINS, input: { id: missing, password: "0123456789ab" } },
  "user.sessions": { allowed: ADMINS, input: { userId: missing } },
  "user.revokeSessions": { allowed: ADMINS, input: { userId: missing } },
  "token.list": { allowed: ADMINS },
  "token.create": { allowed: ADMINS, input: { name: "ci", role: "viewer" } },
  "token.revoke": { allowed: ADMINS, input: { id: missing } },
  "metrics.series": { allowed: SIGNED_IN, input: { clusterId: missing, scope: "cluster", range: "5m" } },
  "metrics.poolBackends": { allowed: SIGNED_IN, input: { clusterId: missing, poolId: missing, range: "1h" } },
  "metrics.live": { allowed: SIGNED_IN, input: { clusterId: missing, scope: "cluster" } },
  "metrics.liveBackends": { allowed: SIGNED_IN, input: { clusterId: missing, poolId: missing } },
  "metrics.markers": { allowed: SIGNED_IN, input: { clusterId: missing, from: 0, to: 1 } },
  "metrics.healthEvents": {
    allowed: SIGNED_IN,
    input: { clusterId: missing, poolId: missing, from: 0, to: 1 },
  },
  "metrics.healthTimeline": {
    allowed: SIGNED_IN,
    input: { clusterId: missing, poolId: missing, from: 0, to: 1 },
  },
  "metrics.overview": { allowed: SIGNED_IN, input: { clusterId: missing } },
};

const procedures = Object.keys(appRouter._def.procedures);

describe("every procedure is authorized on the server", () => {
  let c: TestConsole;
  beforeAll(async () => {
    c = await startTestConsole();
    // token.create needs a real creator; give the admin actor one.
    const admin = await c.services.prisma.user.create({
      data: { id: "rbac-admin", name: "a", email: "rbac-admin@example.com", role: "admin" },
    });
    (actors.admin as { id: string | null }).id = admin.id;
  });
  afterAll(async () => {
    await c?.stop();
  });

  it("has a spec row for every procedure and no stale rows", () => {
    expect(procedures.filter((p) => !(p in SPEC))).toEqual([]);
    expect(Object.keys(SPEC).filter((p) => !procedures.includes(p))).toEqual([]);
  });

  const matrix = procedures.flatMap((path) => ANYONE.map((who) => [path, who] as const));
  it.each(matrix)("%s as %s", async (path, who) => {
    const spec = SPEC[path];
    if (!spec) throw new Error(`no spec for ${path}`);
    const actor: Actor | null = who === "anonymous" ? null : actors[who];
    const caller = callerAs(c, actor) as unknown as Record<
      string,
      Record<string, (i: unknown) => Promise<unknown>>
    >;
    const [ns, name] = path.split(".") as [string, string];
    const call = () => caller[ns]![name]!(spec.input);
    let code: string | null = null;
    try {
      await call();
    } catch (err) {
      code = err instanceof TRPCError ? err.code : "OTHER";
    }
    if (spec.allowed.includes(who)) {
      expect(
        code === "UNAUTHORIZED" || code === "FORBIDDEN",
        `${path} must be allowed for ${who}, got ${code}`,
      ).toBe(false);
    } else {
      expect(code).toBe(who === "anonymous" ? "UNAUTHORIZED" : "FORBIDDEN");
    }
  });
});
