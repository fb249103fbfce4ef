#!/usr/bin/env bash
# Runs every test. Installs what the tests need first (scripts/setup.sh: apt,
# npm, pip; safe to run again), then builds and tests the whole workspace,
# including the end-to-end suite (tests/e2e_*.rs) against a real Pyodide.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
echo "==> scripts/build.sh, then the tests of both workspaces"
./scripts/build.sh
(cd preload && cargo test)
cargo test --workspace
