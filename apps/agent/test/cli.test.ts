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
    [["--config", "x.json", "--console-ca", "ca.pem"], /drop --console-ca/],
    // Plain http to another host carries the credential and TLS keys in the clear: refused unless asked for.
    [["--console", "http://10.1.2.3:3000"], /plain http to another host.*--insecure-console-url/],
    [["--console", "http://console.example"], /plain http to another host/],
    [["--console", "http://localhost:3000", "--console-ca", "/x.pem"], /--console-ca needs an https/],
    [
      ["--console", "https://c.example", "--console-ca", "/nonexistent/ca.pem"],
      /--console-ca .*cannot read it/,
    ],
  ])("exits 2 with a helpful message for %j", async (args, message) => {
    const agent = spawnAgent(args);
    running.push(agent);
    expect(await agent.exited).toBe(2);
    expect(agent.stderr()).toMatch(message);
    expect(agent.stderr()).toMatch(/usage:/);
  });

  it("exits 2 when --console-ca holds no PEM certificate, or a broken one", async () => {
    const notPem = join(dir, "not-pem.txt");
    await writeFile(notPem, "hello\n");
    const broken = join(dir, "broken.pem");
    await writeFile(broken, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    const cases = [
      [notPem, /no PEM certificate in it/],
      [broken, /certificate 1 is not valid/],
    ] as const;
    const agents = cases.map(([file]) =>
      spawnAgent(["--console", "https://c.example", "--console-ca", file]),
    );
    running.push(...agents);
    for (const [i, agent] of agents.entries()) {
      expect(await agent.exited).toBe(2);
      expect(agent.stderr()).toMatch(cases[i]![1]);
    }
  });

  it("accepts plain http to another host with --insecure-console-url (or its variable), and loopback without", async () => {
    const stateDir = join(dir, "empty-state");
    const cases = [
      [["--console", "http://10.1.2.3:3000", "--insecure-console-url"], {}],
      [["--console", "http://10.1.2.3:3000"], { FULCRUM_INSECURE_CONSOLE_URL: "1" }],
      [["--console", "http://[::1]:3000"], {}],
    ] as const;
    const agents = cases.map(([args, env]) => spawnAgent([...args, "--state-dir", stateDir], env));
    running.push(...agents);
    for (const agent of agents) {
      // Past the URL check, the next stop is the missing credential.
      expect(await agent.exited).toBe(2);
      expect(agent.stderr()).toMatch(/no credential in .*pass --token/);
    }
  }, 60_000);

  it("exits 2 when a --config file is not a valid snapshot, naming the field", async () => {
    const file = join(dir, "bad.json");
    await writeFile(file, JSON.stringify({ version: 1 }));
    const agent = spawnAgent(["--config", file]);
    running.push(agent);
    expect(await agent.exited).toBe(2);
    expect(agent.stderr()).toMatch(/not a valid snapshot at hash/);
  });
});
