#!/usr/bin/env bash
# Starts Fulcrum on http://localhost:3000 with the embedded database in ./.fulcrum
# (or PostgreSQL when DATABASE_URL is set): the console, one local agent, three demo
# backends and a light traffic generator. FULCRUM_DEMO=0 starts the console alone.
# Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure-tools.sh

ensure_node
ensure_pnpm
ensure_deps
ensure_console_build

export FULCRUM_DATA_DIR=${FULCRUM_DATA_DIR:-$PWD/.fulcrum}
if [ "${FULCRUM_DEMO:-1}" = "0" ]; then
  say "starting the console on http://localhost:${PORT:-3000} (data: ${DATABASE_URL:+PostgreSQL}${DATABASE_URL:-$FULCRUM_DATA_DIR})"
  cd apps/console
  exec node --import tsx server.ts
fi
say "starting the console, a local agent, three demo backends and traffic"
exec node --import tsx scripts/demo/run.ts
