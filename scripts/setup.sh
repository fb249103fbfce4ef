#!/usr/bin/env bash
# Installs everything the demo and the tests need, on a fresh Debian 12 machine.
# Safe to run again: every step checks first and does nothing when done.
#
#   apt:   emscripten (emcc 3.1.6), python3.11-dev (CPython 3.11 headers), ninja, cmake
#   npm:   pyodide@0.23.4               -> .cache/pyodide-npm/node_modules/pyodide
#   PyPI:  micropip, packaging wheels   -> .cache/wheels/   (loaded into Pyodide)
#          pinned sdists of the e2e set -> .cache/sdists/
#          build deps for --no-build-isolation builds, into the host python
#   cargo: build --workspace
#   then:  pyrewrite target from-pyodide -> .cache/target.json
#
# Environment: PYTHON (default python3), SUDO (default: sudo if not root).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=$ROOT/.cache
PYTHON=${PYTHON:-python3}
PYODIDE_VERSION=0.23.4
if [ "$(id -u)" = 0 ]; then SUDO=${SUDO:-}; else SUDO=${SUDO:-sudo}; fi

step() { printf '==> %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# The real sdists built by the e2e suite (tests/e2e_sdists.rs), pinned.
# Keep this list in sync with SDISTS there.
SDISTS=(
  markupsafe==3.0.4
  msgpack==1.2.4
)
# Build requirements of the examples and SDISTS, installed into the host
# python so `pip wheel --no-build-isolation` finds them.
BUILD_DEPS=(setuptools wheel packaging)

# --- apt ---------------------------------------------------------------------
APT_PKGS=(emscripten python3.11-dev ninja-build cmake clang-tools-14)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "apt-get install ${missing[*]}"
  command -v apt-get >/dev/null || die "apt-get not found; install ${missing[*]} by hand"
  # Update the index only when it was never fetched (fresh containers).
  if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ]; then
    $SUDO apt-get update -qq
  fi
  if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
else
  step "apt packages present (${APT_PKGS[*]})"
fi
command -v emcc >/dev/null || die "emcc not on PATH after installing emscripten"

# --- node + pyodide ------------------------------------------------------------
command -v node >/dev/null || die "node not found; install Node.js >= 18 (apt-get install nodejs npm)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 18 ] || die "node $(node --version) is too old; Pyodide $PYODIDE_VERSION needs >= 18"
PYODIDE_DIR=$CACHE/pyodide-npm/node_modules/pyodide
if [ "$(node -p "require('$PYODIDE_DIR/package.json').version" 2>/dev/null)" != "$PYODIDE_VERSION" ]; then
  step "npm install pyodide@$PYODIDE_VERSION into .cache/pyodide-npm"
  command -v npm >/dev/null || die "npm not found (apt-get install npm)"
  mkdir -p "$CACHE/pyodide-npm"
  (cd "$CACHE/pyodide-npm" && npm install --no-audit --no-fund --silent "pyodide@$PYODIDE_VERSION")
else
  step "pyodide $PYODIDE_VERSION present"
fi

# --- PyPI downloads --------------------------------------------------------------
mkdir -p "$CACHE/wheels" "$CACHE/sdists"
fetch() { # fetch DIR FILE-GLOB PIP-ARGS...
  local dir=$1 glob=$2; shift 2
  compgen -G "$dir/$glob" >/dev/null && return 0
  step "pip download $*"
  "$PYTHON" -m pip download -q --no-deps -d "$dir" "$@"
}
fetch "$CACHE/wheels" 'micropip-0.3.0-*.whl' micropip==0.3.0
fetch "$CACHE/wheels" 'packaging-23.1-*.whl' packaging==23.1
for spec in "${SDISTS[@]}"; do
  name=${spec%%==*}; ver=${spec##*==}
  fetch "$CACHE/sdists" "${name//-/[-_]}-$ver.tar.gz" --no-binary :all: "$spec"
done

need_install=()
for dep in "${BUILD_DEPS[@]}"; do
  "$PYTHON" -c "import importlib.util,sys; sys.exit(importlib.util.find_spec('$dep') is None)" \
    || need_install+=("$dep")
done
if [ ${#need_install[@]} -gt 0 ]; then
  step "pip install ${need_install[*]}"
  "$PYTHON" -m pip install -q "${need_install[@]}"
else
  step "host build deps present (${BUILD_DEPS[*]})"
fi

# --- build + target ---------------------------------------------------------------
step "cargo build --workspace"
cargo build --workspace -q
step "pyrewrite target from-pyodide -> .cache/target.json"
./target/debug/pyrewrite target from-pyodide "$PYODIDE_DIR" -o "$CACHE/target.json"
step "setup done"
