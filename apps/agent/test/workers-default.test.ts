import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../src/config";
import { spawnAgent } from "./helpers/agent-process";
import { freePort, get, type NamedBackend, startBackend } from "./helpers/net";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";

/** `--workers` left out means `auto`: every core the process may use (one worker process each). */
describe("--workers default", () => {
  let dir: string;
  let a: NamedBackend;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fulcrum-workers-default-"));
    a = await startBackend("a");
  });
  afterAll(async () => {
    await a.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("is auto: the cores this process may use; 1 and N stay as given; the HAProxy engine ignores it", () => {
    const cores = availableParallelism();
    const builtin = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
      const e = parseConfig(["--config", "x.json", ...argv], env).engine;
      return e.name === "builtin" ? e.workers : e.name;
    };
    expect(builtin([])).toBe(cores);
    expect(builtin([], { FULCRUM_WORKERS: "" })).toBe(cores);
    expect(builtin([], { FULCRUM_WORKERS: "1" })).toBe(1);
    expect(builtin(["--workers", "3"], { FULCRUM_WORKERS: "1" })).toBe(3);
    expect(builtin(["--workers", "1"])).toBe(1);
    // No error and no workers with HAProxy, auto (the default) or a number.
    expect(parseConfig(["--config", "x.json", "--engine", "haproxy"], {}).engine).toMatchObject({
      name: "haproxy",
    });
    expect(builtin(["--engine", "haproxy", "--workers", "auto"])).toBe("haproxy");
    expect(builtin(["--engine", "haproxy", "--workers", "4"])).toBe("haproxy");
  });

  it("runs one worker process per core when the operator names no count", async () => {
    const port = await freePort();
    const file = join(dir, "snap.json");
    await writeFile(file, JSON.stringify(makeSnapshot(1, [httpListener(port)], [backend("a", a.port)])));
    // The test harness runs one process unless asked (FULCRUM_WORKERS=1): unset it, as an operator's shell would be.
    const agent = spawnAgent(["--config", file], { FULCRUM_WORKERS: "" });
    try {
      await agent.waitFor(/applied snapshot version=1/, 60_000);
      expect((await get(port)).body).toBe("a");
      const cores = availableParallelism();
      if (cores > 1) expect(agent.stderr()).toMatch(new RegExp(`data plane: builtin workers=${cores}\\b`));
      else expect(agent.stderr()).not.toMatch(/data plane: builtin workers=/);
    } finally {
      await agent.stop();
    }
  }, 90_000);
});
