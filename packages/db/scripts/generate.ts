// Runs `prisma generate` offline. Prisma 7's CLI insists on downloading a
// schema-engine binary before doing anything, even though `generate` never
// runs it; pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file skips
// the download.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const schemaPath = path.resolve(packageDir, "../../prisma/schema.prisma");

function engineStub(): string {
  const dir = path.join(tmpdir(), "fulcrum-prisma");
  const stub = path.join(dir, "schema-engine-stub");
  if (!existsSync(stub)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      stub,
      "#!/bin/sh\necho 'schema-engine stub: prisma migrate is not available offline' >&2\nexit 1\n",
    );
    chmodSync(stub, 0o755);
  }
  return stub;
}

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= engineStub();

// Resolved from the package rather than PATH so the script also works when run
// with plain `tsx` outside pnpm.
const prismaCli = createRequire(import.meta.url).resolve("prisma/build/index.js");
const result = spawnSync(process.execPath, [prismaCli, "generate", "--schema", schemaPath], {
  cwd: packageDir,
  env,
  stdio: "inherit",
});
if (result.error) throw result.error;
process.exit(result.status ?? 1);
