import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnAgent } from "../helpers/agent-process";
import { freePort, get, type NamedBackend, startBackend } from "../helpers/net";
import { BIN, be, http, pool, snap } from "./fixtures";

let dir: string;
let a: NamedBackend;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fulcrum-cli-haproxy-"));
  a = await startBackend("a");
});
afterAll(async () => {
  await a.close();
  await rm(dir, { recursive: true, force: true });
});

describe("fulcrum-agent --engine haproxy", () => {
  it("serves a --config snapshot through HAProxy and stops HAProxy with the agent", async () => {
    const port = await freePort();
    const file = join(dir, "snap.json");
    await writeFile(
      file,
      JSON.stringify(snap(1, [http("web", port, "p1")], [pool("p1", [be("a", a.port)])])),
    );
    const agent = spawnAgent([
      "--config",
      file,
      "--engine",
      "haproxy",
      "--haproxy-bin",
      BIN,
      "--state-dir",
      dir,
    ]);
    try {
      await agent.waitFor(/applied snapshot/, 20_000);
      expect(agent.stderr()).toMatch(/data plane: haproxy/);
      expect((await get(port)).body).toBe("a");
    } finally {
      expect(await agent.stop()).toBe(0);
    }
    // HAProxy went with the agent: the port no longer answers.
    await expect(get(port)).rejects.toThrow(/ECONNREFUSED/);
  });

  it("fails fast with what to fix when HAProxy is missing or the engine is unknown", async () => {
    const missing = spawnAgent([
      "--config",
      "x.json",
      "--engine",
      "haproxy",
      "--haproxy-bin",
      "/nonexistent/haproxy",
    ]);
    expect(await missing.exited).toBe(2);
    expect(missing.stderr()).toMatch(/install the haproxy package or pass --haproxy-bin/);

    const unknown = spawnAgent(["--config", "x.json", "--engine", "nginx"]);
    expect(await unknown.exited).toBe(2);
    expect(unknown.stderr()).toMatch(/--engine must be builtin or haproxy/);
  });
});
