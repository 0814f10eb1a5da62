import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "../src/log";
import { CredentialStore } from "../src/state/credential-store";
import { SnapshotStore } from "../src/state/snapshot-store";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fulcrum-state-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("SnapshotStore", () => {
  it("round-trips a snapshot, 0600, leaving no temp files", async () => {
    const store = new SnapshotStore(dir, silentLogger);
    expect(await store.load()).toBeUndefined();
    const snap = makeSnapshot(3, [httpListener(8080)], [backend("a", 9000)]);
    await store.save(snap);
    expect(await store.load()).toEqual(snap);
    expect((await stat(store.path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(["snapshot.json"]);
  });

  it("survives a torn temp file next to the last good snapshot", async () => {
    const store = new SnapshotStore(dir, silentLogger);
    const snap = makeSnapshot(4, [httpListener(8080)], [backend("a", 9000)]);
    await store.save(snap);
    await writeFile(join(dir, ".snapshot.json.tmp-999-x"), '{"version": 5, "listen');
    expect(await store.load()).toEqual(snap);
  });

  it("treats a corrupt snapshot.json as absent instead of failing", async () => {
    const store = new SnapshotStore(dir, silentLogger);
    await writeFile(store.path, '{"version": 5, "listen');
    expect(await store.load()).toBeUndefined();
  });
});

describe("CredentialStore", () => {
  it("round-trips with mode 0600", async () => {
    const store = new CredentialStore(dir);
    const cred = { agentId: "ag1", clusterId: "c1", credential: "secret", consoleUrl: "http://x/" };
    await store.save(cred);
    expect(await store.load()).toEqual(cred);
    expect((await stat(store.path)).mode & 0o777).toBe(0o600);
  });
});
