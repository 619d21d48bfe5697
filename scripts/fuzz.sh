#!/usr/bin/env bash
# Fuzz the JSON API with schemathesis, driven by its own OpenAPI document, on 127.0.0.1 only.
#
#   scripts/fuzz.sh                                   # SQLite, fresh data dir with demo data
#   scripts/fuzz.sh --database-url postgres://postgres@127.0.0.1:5432/postgres
#                                                     # PostgreSQL: a fresh database beside that one,
#                                                     # dropped afterwards
# Environment: SHOUHOU_BIN (a built binary; else `cargo build`), FUZZ_MAX_EXAMPLES (per operation,
# default 20), FUZZ_MAX_TIME (seconds per role, default 300), FUZZ_SEED.
#
# It runs once as an administrator and once as an engineer (a low-privilege, station-scoped role)
# with the checks not_a_server_error, status_code_conformance, content_type_conformance and
# response_schema_conformance, and fails on any 5xx, any answer off the documented schema, status
# or content type (so any error that is not application/problem+json). Reports land in
# target/fuzz.*/report-ROLE/ (JSON, JUnit); the last lines print the figures for docs/SECURITY.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
database_url=""
max_examples=${FUZZ_MAX_EXAMPLES:-20}
max_time=${FUZZ_MAX_TIME:-300}
seed=${FUZZ_SEED:-20261128}
while [ $# -gt 0 ]; do
  case "$1" in
    --database-url) database_url=$2; shift 2 ;;
    --max-examples) max_examples=$2; shift 2 ;;
    --max-time) max_time=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

if [ -n "${SHOUHOU_BIN:-}" ]; then
  bin=$SHOUHOU_BIN
else
  nice -n 10 cargo build -p shouhou --quiet
  bin=$target/debug/shouhou
fi

venv=$target/fuzz-venv
if [ ! -x "$venv/bin/st" ]; then
  echo "== installing schemathesis into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
fi

mkdir -p "$target"
work=$(mktemp -d "$target/fuzz.XXXXXX")
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port

server_pid=""
fresh_db=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "$fresh_db" ]; then psql -q "$database_url" -c "DROP DATABASE IF EXISTS $fresh_db WITH (FORCE)" || true; fi
}
trap cleanup EXIT

args=(demo --addr "127.0.0.1:$port" --data-dir "$work/data")
backend=sqlite
if [ -n "$database_url" ]; then
  backend=postgres
  fresh_db=shouhou_fuzz_$$
  psql -q "$database_url" -c "CREATE DATABASE $fresh_db"
  args+=(--database-url "${database_url%/*}/$fresh_db")
fi
echo "== starting $bin on $base ($backend)"
SHOUHOU_LOG=warn "$bin" "${args[@]}" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 240); do
  curl -sf "$base/readyz" > /dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.5
done
curl -sf "$base/readyz" > /dev/null

token() {
  curl -sf "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"Shouhou@2026\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}

start=$(date +%s)
status=0
for role in admin engineer; do
  tok=$(token "$role")
  echo "== schemathesis as $role (at most $max_examples examples per operation, ${max_time}s)"
  # Logging out would end the run's own token; everything else is fair game.
  # Run from the work directory: schemathesis keeps a .schemathesis/ cache where it runs.
  (cd "$work" && "$venv/bin/st" run "$base/api/openapi.json" --url "$base" \
    -H "Authorization: Bearer $tok" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "$max_examples" --max-time "$max_time" --seed "$seed" --workers 1 \
    --request-timeout 20 --exclude-path /api/v1/auth/logout \
    --report json,junit --report-dir "$work/report-$role" --warnings off \
    > "$work/st-$role.log" 2>&1) || status=1
  tail -n 40 "$work/st-$role.log"
done
seconds=$(( $(date +%s) - start ))

python3 - "$work" "$seconds" "$backend" <<'PY'
import glob, json, os, sys
work, seconds, backend = sys.argv[1], int(sys.argv[2]), sys.argv[3]
total, failures = 0, {}
for role in ("admin", "engineer"):
    for path in glob.glob(os.path.join(work, f"report-{role}", "*.json")):
        r = json.load(open(path))
        total += r["test_cases"]["generated"]
        ops = r["operations"]["tested"]
        print(f"  {role}: {r['test_cases']['generated']} requests over {ops} operations in "
              f"{r['running_time']:.0f}s, {r['test_cases']['unique_failures']} unique failures, "
              f"{len(r['errors'])} errors")
        for f in r["failures"]:
            key = f"{f['code']} {f['title']}"
            failures[key] = failures.get(key, 0) + f["count"]
            print(f"    {key}: {f['count']} ({', '.join(f['operations'])})")
summary = ", ".join(f"{k}: {v}" for k, v in sorted(failures.items())) or "none"
print(f"fuzz figures ({backend}): {total} requests, failures by check: {summary}; run time {seconds}s")
PY
if [ "$status" -ne 0 ]; then
  echo "fuzzing found failures: see $work/st-*.log" >&2
fi
exit "$status"
