#!/usr/bin/env bash
# Starts the Fulcrum console on http://localhost:3000 with the embedded database
# in ./.fulcrum (or PostgreSQL when DATABASE_URL is set). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure-tools.sh

ensure_node
ensure_pnpm
ensure_deps
ensure_console_build

export FULCRUM_DATA_DIR=${FULCRUM_DATA_DIR:-$PWD/.fulcrum}
say "starting the console on http://localhost:${PORT:-3000} (data: ${DATABASE_URL:+PostgreSQL}${DATABASE_URL:-$FULCRUM_DATA_DIR})"
cd apps/console
exec node --import tsx server.ts
