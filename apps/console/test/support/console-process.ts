import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { consoleDir, freePort, waitFor } from "./console";

export interface ConsoleProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** A second, separate console process on the given database (APIs and gateway only). */
export async function spawnConsoleProcess(env: Record<string, string>): Promise<ConsoleProcess> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(consoleDir, "test/fixtures/api-console.ts")],
    {
      cwd: consoleDir,
      env: {
        PATH: process.env.PATH ?? "",
        NODE_ENV: "test",
        HOST: "127.0.0.1",
        PORT: String(port),
        FULCRUM_PUBLIC_URL: `http://127.0.0.1:${port}`,
        FULCRUM_SECRET: "test-secret-test-secret-test-secret-0123456789",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    `console process on ${port}\n${out}`,
    async () => (await fetch(`${url}/api/health`)).ok,
    60_000,
  );
  return {
    url,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
