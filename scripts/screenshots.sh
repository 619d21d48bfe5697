#!/usr/bin/env bash
# Refresh the pictures in docs/screenshots (the README shows some of them): the browser tests,
# writing their screenshots there instead of e2e/out/screenshots. Needs `cargo build -p shouhou`.
set -euo pipefail
cd "$(dirname "$0")/.."
SHOUHOU_SCREENSHOTS=docs/screenshots SHOUHOU_BIN="${SHOUHOU_BIN:-$PWD/target/debug/shouhou}" bash e2e/run.sh
