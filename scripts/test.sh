#!/usr/bin/env bash
# Runs every test: lint, types, unit and integration tests (on embedded PGlite, and again on
# PostgreSQL when one is reachable), then the browser tests.
#
# The layers below are independent and mostly wait on sockets and timers, so they run side by
# side (scripts/lib/layers.sh): each writes its own log, the first failure stops the others.
# Lint runs first, alone (seconds). One layer alone: FULCRUM_TEST_LAYERS="console-pglite" bash
# scripts/test.sh (space-separated names; see CONTRIBUTING.md, "The test run").
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure-tools.sh
source scripts/lib/layers.sh

ensure_node
ensure_pnpm
ensure_deps
ensure_chromium
ensure_haproxy
ensure_pebble

# CI and developer machines have PostgreSQL on 127.0.0.1; a fresh laptop may not.
PG_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}

# Seconds, so they run first and a formatting slip fails at once.
lint() {
  say "lint and format check (biome), import boundaries, paths named in CONTRIBUTING.md"
  pnpm exec biome check .
  node scripts/check-boundaries.mjs
  node scripts/check-doc-paths.mjs CONTRIBUTING.md AGENTS.md
}

types() {
  say "type check"
  # pnpm rather than turbo: turbo starts each task in a process group of its own, which stopping
  # this layer's group would not reach. One package at a time: the other layers need the cores more.
  pnpm -r --workspace-concurrency=1 --reporter=append-only run typecheck
  pnpm exec tsc -p scripts
}

# vitest is called directly rather than through `turbo run test`: @fulcrum/db's test script
# regenerates the Prisma client, which would rewrite it under the other layers' feet
# (ensure_deps generated it already).
vitest_in() {
  local pkg=$1
  shift
  say "$pkg: vitest run $*"
  pnpm --filter "$pkg" exec vitest run "$@"
}

packages_pglite() {
  unset DATABASE_URL
  vitest_in @fulcrum/protocol
  vitest_in @fulcrum/balancer
  vitest_in @fulcrum/db
}

# The longest layer (real agent processes, HAProxy, timers), so it has one of its own.
agent() {
  unset DATABASE_URL
  vitest_in @fulcrum/agent
}

console_pglite() {
  unset DATABASE_URL
  vitest_in @fulcrum/console
}

postgres() {
  export DATABASE_URL=$PG_URL
  vitest_in @fulcrum/db
  vitest_in @fulcrum/console
}

browser() {
  unset DATABASE_URL
  say "browser tests (Playwright, Debian Chromium)"
  # The console under test listens on a fixed port (E2E_PORT, 3199): checkouts sharing a machine
  # can take turns through a lock file.
  if [ -n "${FULCRUM_E2E_LOCK:-}" ]; then
    flock "$FULCRUM_E2E_LOCK" pnpm --filter @fulcrum/e2e e2e
  else
    pnpm --filter @fulcrum/e2e e2e
  fi
}

layers=${FULCRUM_TEST_LAYERS:-types agent packages-pglite console-pglite postgres browser}
wants() { [[ " $layers " == *" $1 "* ]]; }

if wants postgres && ! node scripts/lib/pg-reachable.mjs "$PG_URL"; then
  if [ "${CI:-}" = "true" ]; then die "CI must run the PostgreSQL tests, but $PG_URL is not reachable"; fi
  say "no PostgreSQL at $PG_URL: skipping the PostgreSQL run (set DATABASE_URL to use another server)"
  layers=${layers/postgres/}
fi

lint

# The longest layers start first; the console build (CPU-heavy, needed only by the browser tests)
# too, so the browser tests can follow as soon as a slot frees.
if wants browser; then start_layer console-build ensure_console_build; fi
if wants agent; then start_layer agent agent; fi
if wants console-pglite; then start_layer console-pglite console_pglite; fi
if wants postgres; then start_layer postgres postgres; fi
if wants types; then start_layer types types; fi
if wants packages-pglite; then start_layer packages-pglite packages_pglite; fi
on_layer_passed() {
  if [ "$1" = console-build ]; then start_layer browser browser; fi
}
wait_layers

say "all tests passed"
