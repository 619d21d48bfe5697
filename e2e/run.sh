#!/usr/bin/env bash
# Runs the browser end-to-end tests: installs Chromium and the npm dependency
# when missing, then `node --test browser.test.mjs agent.test.mjs`. Safe with CI=true and no stdin.
# Needs the binary: `cargo build -p shouhou` (or set SHOUHOU_BIN).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if [[ ! -x /usr/bin/chromium ]]; then
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then sudo=(sudo -n); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q </dev/null
  "${sudo[@]}" apt-get install -y -q --no-install-recommends chromium fonts-wqy-microhei </dev/null
fi

# node_modules/.package-lock.json is npm's record of what is installed.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund </dev/null
fi

exec node --test browser.test.mjs agent.test.mjs workplace.test.mjs admin.test.mjs field.test.mjs warranty.test.mjs portal.test.mjs </dev/null
