#!/usr/bin/env node
// The import boundaries the architecture relies on (docs/architecture.md, "The spine"),
// checked on every import, export-from, dynamic import() and require() of the source
// files, so that they keep holding:
//
// - The console's own code (apps/console: src/, server.ts, scripts) never imports the
//   agent: they meet only through packages/protocol over the WebSocket. The console's
//   *tests* (apps/console/test/) may import @fulcrum/agent/testing to start real agent
//   processes: that test-only dependency is allowed.
// - The agent (apps/agent: everything, tests included) never imports the database
//   (@fulcrum/db, Prisma): it runs on load-balancer nodes without one.
// - packages/protocol and packages/balancer (src/) import no Node.js built-in module,
//   with or without `node:`: they run in the browser and in both apps.
// - Nothing under packages/ imports an app.
//
// Run: node scripts/check-boundaries.mjs (scripts/test.sh runs it with the lint step).
// Exits 1 and names file, line and import for every violation.
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), ".."));
const SOURCE = /\.(ts|tsx|mts|cts|js|mjs|cjs)$/;
const SKIP_DIRS = new Set(["node_modules", ".next", "dist", "generated", ".turbo"]);

function* files(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) yield* files(p);
    } else if (SOURCE.test(e.name) && !e.name.endsWith(".d.ts")) yield p;
  }
}

// import … from "x", export … from "x", import "x", import("x"), require("x").
const SPECIFIER =
  /(?:\bimport\s+(?:type\s+)?(?:[^'"`;]*?\s+from\s+)?|\bexport\s+(?:type\s+)?[^'"`;]*?\s+from\s+|\bimport\s*\(\s*|\brequire\s*\(\s*)["']([^"']+)["']/g;

function importsOf(file) {
  const text = readFileSync(file, "utf8");
  const out = [];
  for (const m of text.matchAll(SPECIFIER)) {
    const line = text.slice(0, m.index).split("\n").length;
    out.push({ spec: m[1], line });
  }
  return out;
}

/** Where a specifier points inside the repository (relative ones resolved), or the bare name. */
function target(file, spec) {
  if (spec.startsWith(".")) return path.relative(root, path.resolve(path.dirname(file), spec));
  return spec;
}

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const isBuiltin = (spec) =>
  spec.startsWith("node:") || builtins.has(spec) || builtins.has(spec.split("/")[0]);
const pointsInto = (t, dir) => t === dir || t.startsWith(`${dir}/`);

const rules = [
  {
    what: "the console's code imports no agent code (its tests may use @fulcrum/agent/testing)",
    dirs: ["apps/console"],
    skip: (rel) => rel.startsWith("apps/console/test/"),
    bad: (t) => t === "@fulcrum/agent" || t.startsWith("@fulcrum/agent/") || pointsInto(t, "apps/agent"),
  },
  {
    what: "the agent imports no database code",
    dirs: ["apps/agent"],
    bad: (t) =>
      t === "@fulcrum/db" ||
      t.startsWith("@fulcrum/db/") ||
      t.startsWith("@prisma/") ||
      t === "prisma" ||
      t.startsWith("@electric-sql/pglite") ||
      t === "pg" ||
      pointsInto(t, "packages/db"),
  },
  {
    what: "protocol and balancer import no Node.js built-in module",
    dirs: ["packages/protocol/src", "packages/balancer/src"],
    bad: (t) => isBuiltin(t),
  },
  {
    what: "packages import no app",
    dirs: ["packages"],
    bad: (t) => t.startsWith("@fulcrum/agent") || t.startsWith("@fulcrum/console") || pointsInto(t, "apps"),
  },
];

const violations = [];
for (const rule of rules) {
  for (const dir of rule.dirs) {
    for (const file of files(path.join(root, dir))) {
      const rel = path.relative(root, file);
      if (rule.skip?.(rel)) continue;
      for (const { spec, line } of importsOf(file)) {
        if (rule.bad(target(file, spec))) violations.push(`${rel}:${line}: imports "${spec}": ${rule.what}`);
      }
    }
  }
}

if (violations.length > 0) {
  console.error(`Import boundaries broken (${violations.length}):\n${violations.join("\n")}`);
  process.exit(1);
}
console.log(`import boundaries hold (${rules.length} rules)`);
