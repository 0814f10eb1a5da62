import path from "node:path";
import { fileURLToPath } from "node:url";
import { startConsole } from "./src/server/start";

const dir = path.dirname(fileURLToPath(import.meta.url));

try {
  const consoleServer = await startConsole({ dev: process.argv.includes("--dev"), dir, env: process.env });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[console] ${signal}: shutting down`);
    consoleServer.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
} catch (err) {
  console.error(`[console] could not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
