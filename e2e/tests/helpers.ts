import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "@playwright/test";
import { ADMIN, call, must, signIn, useCluster } from "./console-api";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A real backend on 127.0.0.1 that answers with its own name. */
export async function startNamedBackend(name: string) {
  const server = http.createServer((_req, res) => res.end(name));
  server.on("clientError", (_e, s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    name,
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Runs the real agent CLI with the arguments an operator copies from the console. */
export function spawnAgent(args: string[]): {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
} {
  const child = spawn(process.execPath, [path.join(repoRoot, "apps/agent/bin/fulcrum-agent.js"), ...args], {
    cwd: repoRoot,
    // One data-plane process (the default, auto, would follow the machine's cores), unless the caller set it.
    env: { ...process.env, FULCRUM_WORKERS: process.env.FULCRUM_WORKERS || "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Splits a shell command line the console shows (no quoting needed: it has none). */
export function argsOf(command: string): string[] {
  return command.trim().split(/\s+/).slice(1);
}

/**
 * A spec's own cluster with one pool, found or created by name: after a failed test Playwright
 * starts a new worker, which runs the spec's beforeAll again on the same console.
 */
export async function clusterWithPool(
  browser: Browser,
  clusterName: string,
  poolName: string,
): Promise<{ clusterId: string; poolId: string }> {
  const page = await browser.newPage();
  try {
    // Run alone (`--no-deps`) the console has no admin yet: make the skeleton's, as its setup page would.
    const setup = await call(page.request, "query", "setup.status", undefined);
    if ((setup.data as { needsSetup?: boolean } | undefined)?.needsSetup) {
      await must(page.request, "mutation", "setup.createAdmin", ADMIN);
    }
    await signIn(page, ADMIN.email, ADMIN.password);
    const r = page.request;
    const clusters = await must<Array<{ id: string; name: string }>>(r, "query", "cluster.list", undefined);
    const clusterId =
      clusters.find((c) => c.name === clusterName)?.id ??
      (await must<{ id: string }>(r, "mutation", "cluster.create", { name: clusterName })).id;
    const pools = await must<Array<{ id: string; name: string }>>(r, "query", "pool.list", { clusterId });
    const poolId =
      pools.find((p) => p.name === poolName)?.id ??
      (await must<{ id: string }>(r, "mutation", "pool.create", { clusterId, name: poolName })).id;
    return { clusterId, poolId };
  } finally {
    await page.close();
  }
}

/** Signs `page` in as the walking skeleton's admin with `clusterId` chosen in the shell. */
export async function signInAdmin(page: Page, clusterId: string): Promise<void> {
  await useCluster(page, clusterId);
  await signIn(page, ADMIN.email, ADMIN.password);
}

/**
 * A real agent enrolled in `clusterId` with a fresh token (`page` signed in as admin), its state
 * in a temporary directory that `stop` removes. `baseURL` is the console's (the project's `use`).
 */
export async function enrollAgent(page: Page, baseURL: string, clusterId: string, name: string) {
  const token = await must<{ secret: string }>(page.request, "mutation", "agent.createEnrollmentToken", {
    clusterId,
  });
  const stateDir = mkdtempSync(path.join(os.tmpdir(), "fulcrum-e2e-agent-"));
  const agent = spawnAgent([
    "--console",
    baseURL,
    "--token",
    token.secret,
    "--state-dir",
    stateDir,
    "--name",
    name,
  ]);
  return {
    ...agent,
    stop: async () => {
      await agent.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
