#!/usr/bin/env python3
"""Build the corpus (corpus/packages.tsv) under pyrewrite and write docs/corpus.md.

Each pinned sdist is fetched from PyPI (sha256 checked), built by its own
unchanged build under `pyrewrite run -- python -m pip wheel --no-deps` (pip's
build isolation: build requirements come from PyPI; `run` verifies the wheel
against the runtime). When a wasm wheel came out, `pyrewrite check` imports
its extension modules in the profile's Pyodide, then runs its smoke line
(`--code`), with its runtime dependencies (third column) installed beside it:
the corpus's own wasm wheels, else pure-Python wheels from PyPI. Every result is appended to
target/corpus/results.jsonl, so an interrupted run resumes where it stopped
(--rerun builds again). docs/corpus.md is rewritten from all results at the end.

Not part of the default test run: about an hour on two cores.
Prerequisites: scripts/setup.sh, then scripts/build.sh --release.

  scripts/corpus.py                 # everything not built yet
  scripts/corpus.py --only ujson    # one package (again: add --rerun)
  scripts/corpus.py --report        # only rewrite docs/corpus.md
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIST = ROOT / "corpus/packages.tsv"
OUT = ROOT / "target/corpus"
RESULTS = OUT / "results.jsonl"
SDISTS = ROOT / ".cache/corpus-sdists"
REPORT = ROOT / "docs/corpus.md"

# `pyrewrite run` exit statuses (README, "Exit status").
RUN_STATUS = {0: "ok", 4: "verify errors", 5: "pure-Python fallback", 6: "check failed"}

DEPS = ROOT / ".cache/corpus-deps"

# Failure classes, first match wins: (class, pattern in the build log).
CLASSES = [
    ("toolchain skew", r"time_t (layout|width)|signature does not match|LinkError"
                       r"|libc\+\+ \(a different version"),
    ("not C (Rust)", r"rustc|maturin|cargo build"),
    ("threads", r"ThreadPool|pthread_create|sys/prctl\.h|-fopenmp"),
    ("missing C library", r"fatal error: '(?!Python\.h|pyconfig\.h)[^']+' file not found"
                          r"|unable to find library -l|Dependency \S+ not found"),
    ("package assumes x86", r"immintrin\.h|emmintrin\.h|xmmintrin\.h|cpuid\.h|__builtin_ia32"
                            r"|-msse|-mavx"),
    ("clang vs gcc warnings under -Werror", r"\[-Werror,-W"),
    ("runtime dependency missing offline", r"ModuleNotFoundError: No module named '[^']+'"),
    ("package's own wasm code expects another host", r"`wasm_on_\w+`"),
    ("pyrewrite bug?", r"pyrewrite: (error|cannot)|unknown argument|unsupported option"),
]


def parse_list():
    for line in LIST.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        spec, smoke, *deps = line.split("\t")
        name, version = spec.split("==")
        yield name, version, smoke, (deps[0].split() if deps else [])


def fetch(name, version):
    """The sdist of NAME==VERSION from PyPI's JSON API, sha256-checked."""
    SDISTS.mkdir(parents=True, exist_ok=True)
    # The project endpoint (file URLs in it may be relative to it).
    api = f"https://pypi.org/pypi/{name}/json"
    with urllib.request.urlopen(api, timeout=60) as r:
        info = json.load(r)
    files = info["releases"].get(version, [])
    sdists = [u for u in files if u["packagetype"] == "sdist"]
    if not sdists:
        raise RuntimeError(f"{name} {version}: PyPI has no sdist")
    u = sdists[0]
    path = SDISTS / u["filename"]
    if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == u["digests"]["sha256"]:
        return path
    url = urllib.parse.urljoin(api, u["url"])
    with urllib.request.urlopen(url, timeout=300) as r:
        data = r.read()
    if hashlib.sha256(data).hexdigest() != u["digests"]["sha256"]:
        raise RuntimeError(f"{u['filename']}: sha256 does not match PyPI's")
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.rename(path)
    return path


def classify(log):
    for name, pattern in CLASSES:
        m = re.search(pattern, log)
        if m:
            return name, m.group(0)
    return "unclassified", ""


def dep_wheels(deps):
    """Wheels for runtime dependencies: a corpus wasm wheel when the corpus
    built one, else a pure-Python wheel from PyPI (downloaded once)."""
    wheels, missing = [], []
    for dep in deps:
        built = sorted((OUT / dep).glob("*wasm32.whl")) if (OUT / dep).is_dir() else []
        if built:
            wheels.append(built[0])
            continue
        DEPS.mkdir(parents=True, exist_ok=True)
        norm = re.sub(r"[-_.]+", "_", dep).lower()
        have = [w for w in DEPS.glob("*.whl") if w.name.lower().startswith(norm + "-")]
        if not have:
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                            "--only-binary=:all:", "--platform", "any",
                            "--python-version", "3.11", "-d", str(DEPS), dep],
                           capture_output=True)
            have = [w for w in DEPS.glob("*.whl") if w.name.lower().startswith(norm + "-")]
        if have and have[0].name.endswith("-none-any.whl"):
            wheels.append(have[0])
        else:
            missing.append(dep)
    return wheels, missing


def build(name, version, smoke, deps, args):
    out = OUT / name
    subprocess.run(["rm", "-rf", str(out)], check=True)
    out.mkdir(parents=True)
    env = dict(os.environ)
    env["PATH"] = f"{ROOT / '.cache/build-venv/bin'}:{env['PATH']}"
    result = {"name": name, "version": version}
    started = time.monotonic()
    try:
        sdist = fetch(name, version)
    except Exception as e:  # network, no sdist, digest: recorded, not fatal
        result.update(status="fetch failed", detail=str(e), seconds=0)
        return result
    cmd = [args.pyrewrite, "run", "--target", str(args.target), "--",
           "python", "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "-w", str(out),
           str(sdist)]
    log_path = out / "build.log"
    try:
        with open(log_path, "w") as log:
            p = subprocess.run(cmd, cwd=out, env=env, stdout=log, stderr=subprocess.STDOUT,
                               timeout=args.timeout)
        code = p.returncode
    except subprocess.TimeoutExpired:
        code = None
    result["seconds"] = round(time.monotonic() - started, 1)
    log = log_path.read_text(errors="replace")
    wheels = sorted(w.name for w in out.glob("*.whl"))
    result["wheels"] = wheels
    result["run_exit"] = code
    wasm = [w for w in wheels if "wasm32" in w]
    result["built"] = bool(wasm)
    result["verified"] = code == 0 and bool(wasm)
    if code is None:
        result["status"] = f"timeout ({args.timeout} s)"
    else:
        result["status"] = RUN_STATUS.get(code, f"build failed (exit {code})")
    if wasm:
        result.update(run_smoke(out / wasm[0], smoke, deps, args))
        log += result.get("check_log", "")
    if code != 0 or result.get("smoke") != "ok":
        result["class"], result["evidence"] = classify(log)
    result.pop("check_log", None)
    return result


def run_smoke(wheel, smoke, deps, args):
    """`pyrewrite check` of the wheel with its dependencies: every extension
    module imported ("imported"), then the smoke line (output on stderr)."""
    extra, missing = dep_wheels(deps)
    base = [args.pyrewrite, "check", "--target", str(args.target), str(wheel)]
    base += [str(w) for w in extra]
    p = subprocess.run(base, capture_output=True, text=True)
    imported = p.returncode == 0
    code = f"print('<smoke>')\n{smoke}\nprint('</smoke>')"
    # `check` itself gives up after --timeout (600 s) and says so.
    q = subprocess.run(base + ["--code", code, "--timeout", "120"], capture_output=True,
                       text=True)
    text = q.stderr + q.stdout
    printed = text.split("<smoke>\n", 1)[-1].split("</smoke>", 1)
    ok = q.returncode == 0 and "<smoke>" in text and len(printed) == 2
    detail = printed[0].strip() if ok else text.strip()[-300:]
    r = {"imported": imported, "smoke": "ok" if ok else "failed",
         "smoke_output": detail[:200], "check_log": p.stderr + p.stdout + text}
    if missing:
        r["missing_deps"] = missing
    return r


def load_results():
    latest = {}
    if RESULTS.is_file():
        for line in RESULTS.read_text().splitlines():
            r = json.loads(line)
            latest[r["name"]] = r
    return latest


def report(results, order):
    rows, counts = [], {"built": 0, "verified": 0, "imported": 0, "smoke": 0}
    for name in order:
        r = results.get(name)
        if not r:
            continue
        mark = lambda b: "yes" if b else "no"
        counts["built"] += bool(r.get("built"))
        counts["verified"] += bool(r.get("verified"))
        counts["imported"] += bool(r.get("imported"))
        counts["smoke"] += r.get("smoke") == "ok"
        note = r["status"]
        if r["status"] == "ok" and not r.get("built"):
            note += "; a pure-Python wheel: this release has no C extension"
        if r.get("missing_deps"):
            note += f"; dependencies not available offline: {', '.join(r['missing_deps'])}"
        if r.get("class"):
            note += f"; {r['class']}"
            if r.get("evidence"):
                note += f": `{r['evidence'][:60]}`"
        rows.append(f"| {name} {r['version']} | {mark(r.get('built'))} | "
                    f"{mark(r.get('verified'))} | {mark(r.get('imported'))} | "
                    f"{r.get('smoke', '—')} | {r.get('seconds', 0):.0f} s | {note} |")
    head = ROOT.joinpath(".git").exists() and subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True, text=True).stdout.strip()
    n = len(rows)
    text = f"""# The corpus: real sdists built under pyrewrite

Written by `scripts/corpus.py` (not in the default test run; about an hour on
two cores) from `corpus/packages.tsv`: real sdists with C or C++ extensions and
no external C library, pinned, each built by its own unchanged build under
`pyrewrite run --check -- python -m pip wheel --no-deps` against the default
test profile (Pyodide 0.23.4, Debian's emcc 3.1.6), then its smoke line run in
Pyodide with `pyrewrite check --code`.

Columns: **built** a wasm32 wheel came out; **verified** `pyrewrite run`
exited 0 (its verify found no error); **imported** `pyrewrite check` imported
every extension module in Pyodide, with the package's runtime dependencies
installed beside it (the corpus's own wasm wheels, else pure-Python wheels from
PyPI); **smoke** the package's one-line call in Pyodide. Failure classes are
read from the build and check output by `scripts/corpus.py` (first match:
toolchain skew, not C, threads, missing C library, package assumes x86, clang
vs gcc warnings under -Werror, pyrewrite bug?) and the evidence is quoted;
"unclassified" needs a look.

Last run at commit `{head}`: {n} packages, {counts['built']} built,
{counts['verified']} verified, {counts['imported']} imported,
{counts['smoke']} smoke tests passed.

| package | built | verified | imported | smoke | time | status |
|---|---|---|---|---|---|---|
""" + "\n".join(rows) + "\n"
    REPORT.write_text(text)
    print(f"corpus: wrote {REPORT.relative_to(ROOT)} ({n} packages)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", help="build only this package (repeatable)")
    ap.add_argument("--rerun", action="store_true", help="build again what has a result")
    ap.add_argument("--report", action="store_true", help="only rewrite docs/corpus.md")
    ap.add_argument("--resmoke", action="store_true",
                    help="run the smoke lines again on the wheels already built")
    ap.add_argument("--timeout", type=int, default=1200, help="seconds per build (1200)")
    ap.add_argument("--pyrewrite", default=str(ROOT / "target/release/pyrewrite"))
    ap.add_argument("--target", type=Path, default=ROOT / ".cache/target.json")
    args = ap.parse_args()
    # Builds run in their own directories: every path absolute.
    args.target = args.target.resolve()
    args.pyrewrite = str(Path(args.pyrewrite).resolve())
    for what, path in [("the pyrewrite binary (scripts/build.sh --release)", args.pyrewrite),
                       ("the target profile (scripts/setup.sh)", args.target)]:
        if not Path(path).exists():
            sys.exit(f"corpus: {path} is missing: {what}")
    packages = list(parse_list())
    order = [p[0] for p in packages]
    results = load_results()
    if args.resmoke:
        smokes = {p[0]: (p[2], p[3]) for p in packages}
        for name, r in list(results.items()):
            wasm = [w for w in r.get("wheels", []) if "wasm32" in w]
            if wasm and name in smokes and (not args.only or name in args.only):
                r.update(run_smoke(OUT / name / wasm[0], *smokes[name], args))
                r.pop("check_log", None)
                print(f"corpus: {name}: smoke {r['smoke']}: {r['smoke_output'][:80]}")
                with open(RESULTS, "a") as f:
                    f.write(json.dumps(r) + "\n")
    elif not args.report:
        OUT.mkdir(parents=True, exist_ok=True)
        todo = [p for p in packages
                if (not args.only or p[0] in args.only) and (args.rerun or p[0] not in results)]
        for i, (name, version, smoke, deps) in enumerate(todo, 1):
            print(f"corpus: [{i}/{len(todo)}] {name} {version} …", flush=True)
            r = build(name, version, smoke, deps, args)
            print(f"corpus:   {r['status']} in {r.get('seconds', 0):.0f} s"
                  f"{'; smoke ' + r['smoke'] if 'smoke' in r else ''}"
                  f"{'; ' + r['class'] if r.get('class') else ''}", flush=True)
            with open(RESULTS, "a") as f:
                f.write(json.dumps(r) + "\n")
            results[name] = r
    report(results, order)


if __name__ == "__main__":
    main()
