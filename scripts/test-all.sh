#!/usr/bin/env bash
# Runs every test. Installs what the tests need first (safe to run again).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --workspace
cargo test --workspace
