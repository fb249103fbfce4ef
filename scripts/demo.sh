#!/usr/bin/env bash
# The main job end to end on a bundled example: build examples/hello-c with an
# unchanged `pip wheel` under pyrewrite (every gcc call rewritten to emcc in
# flight, the wheel retagged for wasm32), then install that wheel in a real
# Pyodide 0.23.4 (node, offline) with `pyrewrite check` and print results
# computed inside Pyodide.
# Installs what it needs first (scripts/setup.sh; safe to run again).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
./scripts/setup.sh

WORK=$ROOT/.cache/demo
rm -rf "$WORK"
mkdir -p "$WORK"
# A fresh copy, so no in-tree build/ of an earlier native build is reused.
cp -r examples/hello-c "$WORK/hello-c"

echo "==> pyrewrite run -- pip wheel --no-deps -w $WORK/wheels examples/hello-c"
(cd "$WORK" && "$ROOT/target/debug/pyrewrite" run --target "$ROOT/.cache/target.json" -- \
  python3 -m pip wheel --no-deps -q -w "$WORK/wheels" "$WORK/hello-c")
WHEEL=$(ls "$WORK"/wheels/*-emscripten_*_wasm32.whl)

echo "==> pyrewrite check: installing $(basename "$WHEEL") in Pyodide 0.23.4 (node, offline) and calling it"
# The snippet's prints go to stderr, the check's report to stdout.
"$ROOT/target/debug/pyrewrite" check --target "$ROOT/.cache/target.json" "$WHEEL" --code '
import sys, hello_c, hello_c._hello as ext
for key, value in [
    ("platform", sys.platform),
    ("extension", ext.__file__),
    ("fib(90)", hello_c.fib(90)),
    ("reverse(\"pyrewrite\")", hello_c.reverse("pyrewrite")),
]:
    print(f"    {key} = {value!r}")
' 2>&1
echo "==> computed inside Pyodide by a wasm32 extension built from an unchanged pip wheel"
