#!/usr/bin/env bash
# Runs every test: lint, types, unit and integration tests (on embedded PGlite,
# and again on PostgreSQL when one is reachable), then the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure-tools.sh

ensure_node
ensure_pnpm
ensure_deps
ensure_chromium
ensure_haproxy
ensure_pebble

say "lint and format check (biome), import boundaries, paths named in CONTRIBUTING.md"
pnpm exec biome check .
node scripts/check-boundaries.mjs
node scripts/check-doc-paths.mjs CONTRIBUTING.md AGENTS.md

say "type check"
pnpm exec turbo run typecheck --output-logs=errors-only
pnpm exec tsc -p scripts

say "unit and integration tests on embedded PGlite"
env -u DATABASE_URL pnpm exec turbo run test --concurrency=1 --output-logs=full

# CI and developer machines have PostgreSQL on 127.0.0.1; a fresh laptop may not.
PG_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
if node scripts/lib/pg-reachable.mjs "$PG_URL"; then
  say "integration tests again on PostgreSQL ($PG_URL)"
  DATABASE_URL=$PG_URL pnpm exec turbo run test --concurrency=1 --output-logs=full \
    --filter=@fulcrum/db --filter=@fulcrum/console
else
  if [ "${CI:-}" = "true" ]; then die "CI must run the PostgreSQL tests, but $PG_URL is not reachable"; fi
  say "no PostgreSQL at $PG_URL: skipping the PostgreSQL run (set DATABASE_URL to use another server)"
fi

say "browser tests (Playwright, Debian Chromium)"
ensure_console_build
env -u DATABASE_URL pnpm --filter @fulcrum/e2e e2e

say "all tests passed"
