#!/usr/bin/env bash
# Install the pinned JavaScript the browser tests inject into pages
# (package-lock.json: axe-core for the WCAG audit of tests/a11y/) into
# node_modules/. Idempotent (stamp of the lock file); node and npm are Debian's
# (scripts/system_packages.sh). Called by scripts/setup.sh and `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null; then
  echo ">> npm not found: the accessibility audit needs it (sudo apt-get install -y nodejs npm; \`make test\` does it as root)" >&2
  exit 0
fi
STAMP=node_modules/.installed
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  echo ">> installing the pinned browser-test JavaScript into node_modules (npm ci)"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$want" > "$STAMP"
fi
