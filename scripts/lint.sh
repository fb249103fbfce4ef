#!/usr/bin/env bash
# Formatting and clippy for both workspaces (root and preload/), warnings as errors.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all --check
cargo fmt --manifest-path preload/Cargo.toml --all --check
cargo clippy --workspace --all-targets -- -D warnings
(cd preload && cargo clippy --all-targets -- -D warnings)
