import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultMigrationsDir, openDatabase, parseDatabaseConfig } from "../src/index";

// Builds its own PGlite config, so it runs (and means the same) in the PostgreSQL pass too.
describe("openDatabase on a PGlite data directory", () => {
  const root = mkdtempSync(path.join(tmpdir(), "fulcrum-data-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("migrates on first open, persists, and applies nothing on reopen", async () => {
    const config = parseDatabaseConfig({ FULCRUM_DATA_DIR: "data" }, root);
    expect(config).toEqual({ kind: "pglite", dataDir: path.join(root, "data") });
    const migrationsDir = defaultMigrationsDir();

    const first = await openDatabase(config, { migrationsDir });
    expect(first.applied.length).toBeGreaterThan(0);
    await first.prisma.cluster.create({ data: { name: "persisted" } });
    await first.close();

    const second = await openDatabase(config, { migrationsDir });
    try {
      expect(second.applied).toEqual([]);
      expect(await second.prisma.cluster.count({ where: { name: "persisted" } })).toBe(1);
    } finally {
      await second.close();
    }
  });
});
