#!/usr/bin/env bash
# Builds everything: the root workspace (the `pyrewrite` driver, the rules and
# protocol crates) and libpyrewrite.so, which is a workspace of its own
# (preload/Cargo.toml explains why). Both land in target/{debug,release}/.
# Extra arguments go to both builds: scripts/build.sh --release
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --workspace "$@"
# From preload/, so that Cargo reads preload/.cargo/config.toml (partial RELRO).
(cd preload && cargo build "$@")
