import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseDatabaseConfig } from "../src/config";

describe("parseDatabaseConfig", () => {
  it("prefers DATABASE_URL", () => {
    expect(
      parseDatabaseConfig({ DATABASE_URL: "postgres://u@h:5432/db", FULCRUM_DATA_DIR: "x" }, "/srv"),
    ).toEqual({
      kind: "postgres",
      url: "postgres://u@h:5432/db",
    });
  });

  it("defaults to ./.fulcrum under the working directory", () => {
    expect(parseDatabaseConfig({}, "/srv/app")).toEqual({
      kind: "pglite",
      dataDir: path.resolve("/srv/app/.fulcrum"),
    });
    expect(parseDatabaseConfig({ DATABASE_URL: " " }, "/srv/app").kind).toBe("pglite");
  });

  it("accepts memory:// and absolute paths", () => {
    expect(parseDatabaseConfig({ FULCRUM_DATA_DIR: "memory://" }, "/srv")).toEqual({
      kind: "pglite",
      dataDir: "memory://",
    });
    expect(parseDatabaseConfig({ FULCRUM_DATA_DIR: "/var/lib/fulcrum" }, "/srv")).toEqual({
      kind: "pglite",
      dataDir: "/var/lib/fulcrum",
    });
  });

  it("explains what to fix", () => {
    expect(() => parseDatabaseConfig({ DATABASE_URL: "not a url" })).toThrow(
      /DATABASE_URL is not a valid URL/,
    );
    expect(() => parseDatabaseConfig({ DATABASE_URL: "mysql://h/db" })).toThrow(/postgres:\/\//);
    expect(() => parseDatabaseConfig({ DATABASE_URL: "postgres://h" })).toThrow(/no database name/);
    expect(() => parseDatabaseConfig({ FULCRUM_DATA_DIR: "s3://bucket" })).toThrow(/FULCRUM_DATA_DIR/);
  });
});
