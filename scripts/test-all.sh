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
echo "==> the preload tests again, against the release libpyrewrite.so (what users preload)"
# (Except the panic test: its trigger exists only in debug builds of the library.)
# pyrewrite-cc too: the library finds it next to itself (the fast path).
(cd preload && cargo build --release)
cargo build --release -p pyrewrite-cc
PYREWRITE_TEST_LIBRARY="$PWD/target/release/libpyrewrite.so" cargo test \
  --test preload_exec --test preload_safety --test preload_socket --test preload_profile_env \
  --test preload_build_systems --test preload_builds --test session_preload \
  --test preload_odd_processes --test session_socket --test session_faults \
  -- --skip a_panic_inside_a_hook_aborts_with_a_message_and_never_unwinds_into_c
