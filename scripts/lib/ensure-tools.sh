# Installs what the two top-level commands need on a fresh Debian machine with Node 20+.
# Sourced by scripts/start.sh and scripts/test.sh.

PNPM_VERSION=10.34.9
# Next.js telemetry would try the network on every build.
export NEXT_TELEMETRY_DISABLED=1

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# Runs "$@" with its output kept in a temporary log that is shown (its end) only on failure,
# so tools' chatter ("Prisma schema loaded from …", Next's build steps) stays out of the way.
quietly() {
  local what=$1 log
  shift
  log=$(mktemp "${TMPDIR:-/tmp}/fulcrum-XXXXXX.log")
  if "$@" >"$log" 2>&1; then
    rm -f "$log"
    return 0
  fi
  tail -n 40 "$log" >&2
  die "$what failed (whole output: $log)"
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root to run: $*"
  fi
}

ensure_node() {
  command -v node >/dev/null 2>&1 || die "Node.js 20 or newer is required (https://nodejs.org or apt-get install nodejs)."
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "Node.js 20 or newer is required; this is $(node -v)."
}

# corepack's signature check fails offline, so pnpm comes from npm.
ensure_pnpm() {
  if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm -v 2>/dev/null)" != "$PNPM_VERSION" ]; then
    say "installing pnpm $PNPM_VERSION with npm"
    npm install -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1 || as_root npm install -g "pnpm@$PNPM_VERSION" >/dev/null
  fi
}

ensure_deps() {
  say "installing dependencies (pnpm install)"
  quietly "pnpm install" pnpm install --frozen-lockfile --reporter=silent
  say "generating the Prisma client"
  quietly "generating the Prisma client" pnpm --silent db:generate
}

# Browser tests use Debian's Chromium; Playwright's own browser download cannot work offline.
ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then return; fi
  say "installing Chromium with apt-get (for the browser tests)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
}

# The agent's HAProxy engine tests run Debian's HAProxy (--engine haproxy).
ensure_haproxy() {
  if command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ]; then return; fi
  say "installing HAProxy with apt-get (for the HAProxy engine tests)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq haproxy >/dev/null
}

ensure_pebble() {
  if command -v pebble >/dev/null 2>&1; then return; fi
  say "installing Pebble with apt-get (the ACME test server for the ACME tests)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq pebble >/dev/null
}

# Builds the console when its sources are newer than the last build.
ensure_console_build() {
  local build_id=apps/console/.next/BUILD_ID
  if [ -f "$build_id" ] && [ -z "$(find apps/console/src apps/console/next.config.ts packages/protocol/src -newer "$build_id" -print -quit)" ]; then
    return
  fi
  say "building the console (next build): about a minute on two cores, needed on the first start and after source changes"
  local started=$SECONDS ticker
  # A line every 20 s, so a quiet minute does not look like a hang.
  (
    while sleep 20; do printf '    … still building (%d s)\n' $((SECONDS - started)); done
  ) &
  ticker=$!
  # shellcheck disable=SC2064 # the ticker's pid is known now
  trap "kill $ticker 2>/dev/null" EXIT
  quietly "next build" pnpm --filter @fulcrum/console build
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  trap - EXIT
  say "built the console in $((SECONDS - started)) s"
}

# The demo makes its local CA and HTTPS certificate with openssl (node:crypto cannot sign X.509).
ensure_openssl() {
  if command -v openssl >/dev/null 2>&1; then return; fi
  say "installing openssl with apt-get (for the demo's HTTPS certificate)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq openssl >/dev/null
}
