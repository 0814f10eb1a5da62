// `pnpm --filter @fulcrum/agent bundle`: the agent for load-balancer nodes that have Node.js 20+
// but no clone of this repository.
//   dist/fulcrum-agent.mjs            one executable file holding every dependency (the workspace
//                                     packages, ws, zod, dns-packet): `node fulcrum-agent.mjs ...`
//   dist/fulcrum-agent-VERSION.tgz    the same file as an npm package with a `fulcrum-agent` bin:
//                                     `npm install -g ./fulcrum-agent-VERSION.tgz` puts it on the PATH
import { execFile } from "node:child_process";
import { chmod, copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build, type Plugin } from "esbuild";

const agentDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const distDir = path.join(agentDir, "dist");
const BUNDLE_NAME = "fulcrum-agent.mjs";

/**
 * src/version.ts reads ../package.json next to itself at run time; a bundle has no such
 * file, so the version is written into the bundle instead.
 */
function versionInlined(version: string): Plugin {
  return {
    name: "fulcrum-version",
    setup(b) {
      const file = path.join(agentDir, "src", "version.ts");
      b.onLoad({ filter: /[\\/]version\.ts$/ }, (args) => {
        if (args.path !== file) return undefined;
        return {
          contents: `export const SOFTWARE_VERSION = ${JSON.stringify(version)};`,
          loader: "ts",
        };
      });
    },
  };
}

async function bundleAgent(outfile: string, version: string): Promise<void> {
  const result = await build({
    entryPoints: [path.join(agentDir, "src", "cli.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    minify: false,
    legalComments: "eof",
    logLevel: "warning",
    // ws loads these native speed-ups only when installed (optional peer dependencies); without
    // them it uses its JavaScript code paths, which is what the bundle ships.
    external: ["bufferutil", "utf-8-validate"],
    // ws and dns-packet are CommonJS and require() Node's modules; ESM output needs a real require.
    banner: {
      js: [
        "#!/usr/bin/env node",
        `// fulcrum-agent ${version}, bundled (apps/agent/scripts/bundle.ts); run: node fulcrum-agent.mjs --help`,
        'import { createRequire as __fulcrumCreateRequire } from "node:module";',
        "const require = __fulcrumCreateRequire(import.meta.url);",
      ].join("\n"),
    },
    plugins: [versionInlined(version)],
  });
  if (result.errors.length > 0) throw new Error(`bundling failed: ${result.errors.length} errors`);
  await chmod(outfile, 0o755);
}

/** An npm package of the bundle alone: no dependencies to fetch on the node. */
async function packBundle(bundle: string, version: string): Promise<string> {
  const staging = path.join(distDir, "package");
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  await copyFile(bundle, path.join(staging, BUNDLE_NAME));
  const manifest = {
    name: "fulcrum-agent",
    version,
    description: "Fulcrum load-balancer agent (single-file build)",
    type: "module",
    bin: { "fulcrum-agent": BUNDLE_NAME },
    files: [BUNDLE_NAME],
    engines: { node: ">=20.19" },
  };
  await writeFile(path.join(staging, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  const { stdout } = await promisify(execFile)(
    "npm",
    ["pack", "--silent", "--pack-destination", distDir, staging],
    { cwd: distDir },
  );
  await rm(staging, { recursive: true, force: true });
  return path.join(distDir, stdout.trim().split("\n").at(-1) ?? "");
}

const pkg = JSON.parse(await readFile(path.join(agentDir, "package.json"), "utf8")) as { version: string };
const bundle = path.join(distDir, BUNDLE_NAME);
await bundleAgent(bundle, pkg.version);
const tarball = await packBundle(bundle, pkg.version);
for (const file of [bundle, tarball]) process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
