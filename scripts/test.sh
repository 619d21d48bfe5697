#!/usr/bin/env bash
# The whole test suite of shouhou, from a fresh machine:
#   unit and integration tests (every store and use-case test on SQLite and on PostgreSQL),
#   the OpenAPI 3.1 validation, and the browser test in headless Chromium.
# It installs or starts what it needs. PostgreSQL must be reachable: a run without it fails.
set -euo pipefail
cd "$(dirname "$0")/.."

export SHOUHOU_TEST_DATABASE_URL="${SHOUHOU_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

# PostgreSQL: start the local cluster if it is installed but not running.
if command -v pg_isready >/dev/null && ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  if command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
fi

echo "== build"
cargo build --locked -p shouhou

echo "== unit and integration tests (SQLite and PostgreSQL)"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --locked --workspace --no-fail-fast
else
  cargo test --locked --workspace
fi

echo "== OpenAPI 3.1 document"
# The validator goes into a virtual environment under target/: a stock Debian refuses `pip install`
# into the system Python (externally-managed-environment).
venv=target/py-venv
if [[ ! -x $venv/bin/python ]]; then
  if ! python3 -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"
    sudo=()
    if [[ $(id -u) -ne 0 ]]; then sudo=(sudo -n); fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q </dev/null
    "${sudo[@]}" apt-get install -y -q python3-venv </dev/null
    python3 -m venv "$venv"
  fi
fi
if ! "$venv/bin/python" -c 'import openapi_spec_validator' 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'openapi-spec-validator==0.9.0'
fi
./target/debug/shouhou openapi > target/openapi.json
"$venv/bin/python" - target/openapi.json <<'PY'
import json, sys
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator
spec = json.load(open(sys.argv[1]))
assert spec["openapi"].startswith("3.1"), spec["openapi"]
validate(spec, cls=OpenAPIV31SpecValidator)
print(f"openapi.json is valid OpenAPI {spec['openapi']} ({len(spec['paths'])} paths)")
PY

echo "== kill -9 under load (SQLite; PostgreSQL with two instances)"
python3 scripts/kill9.py --backend sqlite --bin ./target/debug/shouhou --kills 12
python3 scripts/kill9.py --backend postgres --bin ./target/debug/shouhou --kills 12

echo "== browser test (headless Chromium)"
SHOUHOU_BIN="$PWD/target/debug/shouhou" bash e2e/run.sh
