import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "../src/index";
import { createTestDatabase, type TestDatabase } from "../src/testing";

describe("schema constraints", () => {
  let testDb: TestDatabase;
  let prisma: PrismaClient;
  let clusterId: string;
  let poolId: string;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    prisma = testDb.prisma;
    clusterId = (await prisma.cluster.create({ data: { name: "main" } })).id;
    poolId = (await prisma.pool.create({ data: { clusterId, name: "web" } })).id;
  });
  afterAll(async () => {
    await testDb?.drop();
  });

  it("rejects two pools with one name in one cluster, allows it across clusters", async () => {
    await expect(prisma.pool.create({ data: { clusterId, name: "web" } })).rejects.toMatchObject({
      code: "P2002",
    });
    const other = await prisma.cluster.create({ data: { name: "other" } });
    await expect(prisma.pool.create({ data: { clusterId: other.id, name: "web" } })).resolves.toBeTruthy();
  });

  it("rejects the same address:port twice in one pool", async () => {
    await prisma.backend.create({ data: { poolId, address: "10.0.0.1", port: 8080 } });
    await expect(
      prisma.backend.create({ data: { poolId, address: "10.0.0.1", port: 8080 } }),
    ).rejects.toMatchObject({
      code: "P2002",
    });
    await expect(
      prisma.backend.create({ data: { poolId, address: "10.0.0.1", port: 8081 } }),
    ).resolves.toBeTruthy();
  });

  it("rejects the same bind address and port twice in a cluster", async () => {
    await prisma.listener.create({ data: { clusterId, name: "http", port: 80 } });
    await expect(
      prisma.listener.create({ data: { clusterId, name: "http-2", port: 80 } }),
    ).rejects.toMatchObject({
      code: "P2002",
    });
    await expect(
      prisma.listener.create({ data: { clusterId, name: "http-3", bindAddress: "127.0.0.1", port: 80 } }),
    ).resolves.toBeTruthy();
  });

  it("enforces the hand-written CHECK constraints", async () => {
    await expect(prisma.listener.create({ data: { clusterId, name: "zero", port: 0 } })).rejects.toThrow(
      /listeners_port_check/,
    );
    await expect(prisma.listener.create({ data: { clusterId, name: "high", port: 65536 } })).rejects.toThrow(
      /listeners_port_check/,
    );
    await expect(prisma.backend.create({ data: { poolId, address: "10.0.0.2", port: 0 } })).rejects.toThrow(
      /backends_port_check/,
    );
    await expect(
      prisma.backend.create({ data: { poolId, address: "10.0.0.3", port: 80, weight: 300 } }),
    ).rejects.toThrow(/backends_weight_check/);
    await expect(prisma.pool.create({ data: { clusterId, name: "" } })).rejects.toThrow(/pools_name_check/);
    await expect(prisma.cluster.create({ data: { name: "" } })).rejects.toThrow(/clusters_name_check/);
    await expect(
      prisma.backend.create({ data: { poolId, address: "10.0.0.4", port: 65535, weight: 256 } }),
    ).resolves.toBeTruthy();
  });
});
