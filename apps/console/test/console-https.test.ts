import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { spawnAgent } from "@fulcrum/agent/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, repoRoot, waitFor } from "./support/console";
import { type RunningNginx, startNginx } from "./support/nginx";
import { type Stack, startStack } from "./support/stack";
import { type Issued, TestPki } from "./test-pki";

/*
 * The console behind HTTPS (issue 16): a real nginx running docs/nginx-console.conf
 * terminates TLS with a certificate from a private CA in front of a real console;
 * real agent processes enroll and connect through it, or refuse to.
 */

const run = promisify(execFile);
const ADMIN = { email: "ops@example.com", password: "https test password" };

let pki: TestPki;
let otherPki: TestPki;
let stack: Stack;
let nginx: RunningNginx;
let httpsPort: number;
let httpPort: number;
let publicUrl: string;

/** docs/nginx-console.conf with this test's ports, certificate and console. */
function documentedConfig(consolePort: number, leaf: Issued): string {
  const text = readFileSync(path.join(repoRoot, "docs/nginx-console.conf"), "utf8");
  const swaps: [string, string][] = [
    ["listen 443 ssl;", `listen 127.0.0.1:${httpsPort} ssl;`],
    ["listen 80;", `listen 127.0.0.1:${httpPort};`],
    ["http://127.0.0.1:3000", `http://127.0.0.1:${consolePort}`],
    ["/etc/fulcrum/console-chain.pem", leaf.certFile],
    ["/etc/fulcrum/console-key.pem", leaf.keyFile],
  ];
  let conf = text;
  for (const [from, to] of swaps) {
    if (!conf.includes(from)) throw new Error(`docs/nginx-console.conf no longer has ${from}`);
    conf = conf.replaceAll(from, to);
  }
  return conf;
}

/** curl through nginx, trusting the private CA: the status line's code, headers and body. */
async function curl(args: string[]): Promise<{ status: number; head: string; body: string }> {
  const { stdout } = await run("curl", [
    "-sS",
    "-i",
    "--cacert",
    pki.root.certFile,
    "--max-time",
    "10",
    ...args,
  ]);
  const split = stdout.indexOf("\r\n\r\n");
  const head = stdout.slice(0, split);
  return { status: Number(head.split(" ")[1]), head, body: stdout.slice(split + 4) };
}

beforeAll(async () => {
  pki = new TestPki();
  otherPki = new TestPki();
  const leaf = pki.issue({ cn: "localhost", dns: ["localhost"], ips: ["127.0.0.1"] });
  httpsPort = await freePort();
  httpPort = await freePort();
  publicUrl = `https://localhost:${httpsPort}`;
  stack = await startStack({
    cluster: "behind-https",
    backends: ["alpha"],
    consoleEnv: {
      FULCRUM_PUBLIC_URL: publicUrl,
      FULCRUM_ADMIN_EMAIL: ADMIN.email,
      FULCRUM_ADMIN_PASSWORD: ADMIN.password,
    },
  });
  nginx = await startNginx(documentedConfig(stack.console.port, leaf), httpsPort);
});

afterAll(async () => {
  await stack?.close();
  await nginx?.stop();
  pki?.close();
  otherPki?.close();
});

describe("agents reach the console through nginx over HTTPS with a private CA", () => {
  let stateDir: string;

  it("with --console-ca: enrolls, connects over wss:// and applies a snapshot", async () => {
    const enrolled = await stack.enroll("tls-agent", {
      consoleUrl: publicUrl,
      args: ["--console-ca", pki.root.certFile],
    });
    stateDir = enrolled.stateDir;
    await enrolled.agent.waitFor(/welcomed by console/, 20_000);
    expect(enrolled.agent.stderr()).toContain(
      `connected to console url=wss://localhost:${httpsPort}/agent/ws`,
    );
    const { listenerPort } = await stack.webPool();
    await stack.rolledOut((await stack.latestVersion())!);
    const body = await waitFor("the agent to serve the pool", async () => {
      const res = await fetch(`http://127.0.0.1:${listenerPort}/`);
      return res.ok ? res.text() : undefined;
    });
    expect(body).toBe("alpha");
    await enrolled.agent.stop();
  });

  it("with a CA that did not sign the console's certificate: says so on the WebSocket, retries, does not exit", async () => {
    const agent = spawnAgent(
      [
        "--console",
        publicUrl,
        "--console-ca",
        otherPki.root.certFile,
        "--state-dir",
        stateDir,
        "--name",
        "x",
      ],
      { FULCRUM_LOG_LEVEL: "info" },
    );
    try {
      await agent.waitFor(/the console's certificate is not trusted: .*not signed by a CA in --console-ca/);
      // Backs off and tries again rather than exiting.
      await agent.waitFor(
        /reconnecting[\s\S]*the console's certificate is not trusted[\s\S]*reconnecting/,
        20_000,
      );
      expect(agent.child.exitCode).toBeNull();
      expect(agent.stderr()).not.toContain("welcomed by console");
    } finally {
      await agent.stop();
    }
  });

  it("without --console-ca: enrollment refuses the private CA with a clear message and keeps retrying", async () => {
    const enrolled = await stack.enroll("no-ca", { consoleUrl: publicUrl });
    try {
      await enrolled.agent.waitFor(/the console's certificate is not trusted: .*use --console-ca FILE/);
      await enrolled.agent.waitFor(/not trusted[\s\S]*not trusted/, 20_000);
      expect(enrolled.agent.child.exitCode).toBeNull();
      expect(enrolled.agent.stderr()).not.toContain('"enrolled"');
    } finally {
      await enrolled.agent.stop();
    }
  });
});

describe("people sign in through nginx", () => {
  it("gets a Secure session cookie, passes the origin check and uses the API; http:// redirects to https://", async () => {
    const login = await curl([
      ...["-X", "POST", "-H", "content-type: application/json", "-H", `origin: ${publicUrl}`],
      ...["--data", JSON.stringify(ADMIN), `${publicUrl}/api/auth/sign-in/email`],
    ]);
    expect(login.status).toBe(200);
    const cookies = login.head.split("\r\n").filter((l) => /^set-cookie:/i.test(l));
    expect(cookies.length).toBeGreaterThan(0);
    for (const c of cookies) expect(c).toMatch(/;\s*Secure/i);
    const cookie = cookies.map((c) => c.replace(/^set-cookie:\s*/i, "").split(";")[0]).join("; ");
    expect(login.head).toMatch(/strict-transport-security: max-age=31536000/i);

    const me = await curl(["-H", `cookie: ${cookie}`, `${publicUrl}/api/trpc/setup.me`]);
    expect(me.status).toBe(200);
    expect(JSON.parse(me.body).result.data.json).toMatchObject({ role: "admin" });

    // A write from another origin is still refused behind the proxy.
    const foreign = await curl([
      ...["-X", "POST", "-H", "content-type: application/json", "-H", "origin: https://evil.example"],
      ...["--data", JSON.stringify(ADMIN), `${publicUrl}/api/auth/sign-in/email`],
    ]);
    expect(foreign.status).toBe(403);

    const plain = await curl([`http://localhost:${httpPort}/login`]);
    expect(plain.status).toBe(308);
    expect(plain.head).toMatch(/location: https:\/\/localhost\/login/i);
  });
});
