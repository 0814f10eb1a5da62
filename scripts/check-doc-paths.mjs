#!/usr/bin/env node
// Every repository path CONTRIBUTING.md names in `backticks` must exist, so the guide
// cannot drift from the tree when files move. A path is a backticked token starting
// with a top-level folder of the repository (apps/, packages/, prisma/, scripts/,
// bench/, e2e/, docs/) or naming a root file; tokens holding a placeholder (<name>, *)
// are skipped. Run: node scripts/check-doc-paths.mjs [file…] (scripts/test.sh runs it
// with the lint step). Exits 1 listing each missing path with its line.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const docs = process.argv.length > 2 ? process.argv.slice(2) : ["CONTRIBUTING.md"];
const TOP = /^(apps|packages|prisma|scripts|bench|e2e|docs)\/|^(README|AGENTS|CONTRIBUTING)\.md$/;

const missing = [];
let checked = 0;
for (const doc of docs) {
  const lines = readFileSync(path.resolve(root, doc), "utf8").split("\n");
  lines.forEach((line, i) => {
    for (const m of line.matchAll(/`([^`\s]+)`/g)) {
      const p = m[1];
      if (!TOP.test(p) || /[<>*]/.test(p)) continue;
      checked++;
      if (!existsSync(path.join(root, p))) missing.push(`${doc}:${i + 1}: ${p}`);
    }
  });
}
if (missing.length > 0) {
  console.error(`Paths named in the docs that do not exist (${missing.length}):\n${missing.join("\n")}`);
  process.exit(1);
}
console.log(`doc paths exist (${checked} checked in ${docs.join(", ")})`);
