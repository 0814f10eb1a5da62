#!/usr/bin/env bash
# Raises the open-file limit (36,000 idle connections need as many descriptors in the
# harness and in the agent), then runs the harness. Children die with it.
set -euo pipefail
cd "$(dirname "$0")/.."
want=200000
if [ "$(ulimit -n)" != "unlimited" ] && [ "$(ulimit -n)" -lt "$want" ]; then
  ulimit -Hn "$want" 2>/dev/null || true
  ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi
# PROXY_BENCH=workloads runs proxy/workloads.ts (the per-core workloads, c1000 needs the limit too).
exec tsx "proxy/${PROXY_BENCH:-run}.ts" "$@"
