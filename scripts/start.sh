#!/usr/bin/env bash
# Starts Fulcrum on http://localhost:3000 with the embedded database in ./.fulcrum
# (or PostgreSQL when DATABASE_URL is set): the console (on 127.0.0.1 only unless HOST
# is set), one local agent, three demo backends and a light traffic generator, the demo
# listener also over HTTPS with a local CA made in ./.fulcrum/demo-tls.
# FULCRUM_DEMO=0 starts the console alone (on HOST, default every interface) and says
# which page to open first. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure-tools.sh

ensure_node
ensure_pnpm
ensure_deps
ensure_console_build

export FULCRUM_DATA_DIR=${FULCRUM_DATA_DIR:-$PWD/.fulcrum}
data=${DATABASE_URL:+PostgreSQL}${DATABASE_URL:-$FULCRUM_DATA_DIR}
if [ "${FULCRUM_DEMO:-1}" = "0" ]; then
  say "starting the console alone on port ${PORT:-3000} (data: $data)"
else
  # scripts/demo/run.ts binds the demo console to 127.0.0.1 unless HOST is set, and says so.
  ensure_openssl
  say "starting the console (port ${PORT:-3000}, data: $data), a local agent, three demo backends and traffic"
fi
exec node --import tsx scripts/demo/run.ts
