import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, spawnAgent } from "./helpers/agent-process";
import { freePort, get, type NamedBackend, startBackend } from "./helpers/net";
import { backend, httpListener, makeSnapshot } from "./helpers/snapshot";

let dir: string;
let a: NamedBackend;
let b: NamedBackend;
const running: AgentProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fulcrum-cli-"));
  a = await startBackend("a");
  b = await startBackend("b");
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});
afterAll(async () => {
  await a.close();
  await b.close();
  await rm(dir, { recursive: true, force: true });
});

describe("fulcrum-agent CLI", () => {
  it("serves a --config snapshot file as a real process", async () => {
    const port = await freePort();
    const file = join(dir, "snap.json");
    await writeFile(
      file,
      JSON.stringify(makeSnapshot(1, [httpListener(port)], [backend("a", a.port), backend("b", b.port)])),
    );
    const agent = spawnAgent(["--config", file]);
    running.push(agent);
    await agent.waitFor(/applied snapshot/);
    const got = [];
    for (let i = 0; i < 4; i++) got.push((await get(port)).body);
    expect(got).toEqual(["a", "b", "a", "b"]);
    expect(await agent.stop()).toBe(0);
  });

  it.each([
    [[], /--console is required/],
    [["--console", "ftp://x"], /--console must be an http/],
    [["--console", "http://x", "--token", "short"], /--token/],
    [["--console", "http://x", "--bogus"], /Unknown option '--bogus'/],
    [["--config", "/nonexistent/snap.json"], /cannot read --config/],
    [["--config", "x.json", "--console", "http://x"], /drop --console/],
  ])("exits 2 with a helpful message for %j", async (args, message) => {
    const agent = spawnAgent(args);
    running.push(agent);
    expect(await agent.exited).toBe(2);
    expect(agent.stderr()).toMatch(message);
    expect(agent.stderr()).toMatch(/usage:/);
  });

  it("exits 2 when a --config file is not a valid snapshot, naming the field", async () => {
    const file = join(dir, "bad.json");
    await writeFile(file, JSON.stringify({ version: 1 }));
    const agent = spawnAgent(["--config", file]);
    running.push(agent);
    expect(await agent.exited).toBe(2);
    expect(agent.stderr()).toMatch(/not a valid snapshot at hash/);
  });
});
