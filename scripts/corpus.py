#!/usr/bin/env python3
"""Build the corpus (corpus/packages.tsv) under pyrewrite and write docs/corpus.md.

Each pinned sdist is fetched from PyPI (sha256 checked), built by its own
unchanged build under `pyrewrite run --check -- python -m pip wheel --no-deps`
(pip's build isolation: build requirements come from PyPI), and, when a wasm
wheel came out, its smoke line is run in the profile's Pyodide with
`pyrewrite check --code`. Every result is appended to
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

# Failure classes, first match wins: (class, pattern in the build log).
CLASSES = [
    ("toolchain skew", r"time_t|__throw_length_error|libc\+\+ \(a different version"),
    ("missing C library", r"fatal error: '(?!Python\.h|pyconfig\.h)[^']+' file not found"
                          r"|unable to find library -l|Dependency \S+ not found"),
    ("package assumes x86", r"immintrin\.h|emmintrin\.h|xmmintrin\.h|cpuid\.h|__builtin_ia32"
                            r"|-msse|-mavx"),
    ("threads", r"pthread_create|sys/prctl\.h|-fopenmp"),
    ("pyrewrite bug?", r"pyrewrite: (error|cannot)|unknown argument|unsupported option"),
]


def parse_list():
    for line in LIST.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        spec, smoke = line.split("\t", 1)
        name, version = spec.split("==")
        yield name, version, smoke


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


def build(name, version, smoke, args):
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
    cmd = [args.pyrewrite, "run", "--check", "--target", str(args.target), "--",
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
    result["verified"] = code in (0, 6) and bool(wasm)
    result["imported"] = code == 0
    if code is None:
        result["status"] = f"timeout ({args.timeout} s)"
    else:
        result["status"] = RUN_STATUS.get(code, f"build failed (exit {code})")
    if code != 0:
        result["class"], result["evidence"] = classify(log)
    if wasm:
        result.update(run_smoke(out / wasm[0], smoke, args))
    return result


def run_smoke(wheel, smoke, args):
    """The smoke line run in Pyodide after the wheel's modules are imported
    (`pyrewrite check --code`, whose output goes to stderr)."""
    code = f"print('<smoke>')\n{smoke}\nprint('</smoke>')"
    p = subprocess.run([args.pyrewrite, "check", "--target", str(args.target), str(wheel),
                        "--code", code], capture_output=True, text=True, timeout=600)
    text = p.stderr + p.stdout
    printed = text.split("<smoke>\n", 1)[-1].split("</smoke>", 1)
    ok = p.returncode == 0 and "<smoke>" in text and len(printed) == 2
    detail = printed[0].strip() if ok else text.strip()[-300:]
    return {"smoke": "ok" if ok else "failed", "smoke_output": detail[:200]}


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

Columns: **built** a wasm32 wheel came out; **verified** `pyrewrite verify`
found no error; **imported** every extension module imported in Pyodide
(`run --check` exited 0); **smoke** the package's one-line call in Pyodide.
Failure classes are read from the build log by `scripts/corpus.py` (first
match: toolchain skew, missing C library, package assumes x86, threads,
pyrewrite bug?) and the evidence is quoted; "unclassified" needs a look.

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
    for what, path in [("the pyrewrite binary (scripts/build.sh --release)", args.pyrewrite),
                       ("the target profile (scripts/setup.sh)", args.target)]:
        if not Path(path).exists():
            sys.exit(f"corpus: {path} is missing: {what}")
    packages = list(parse_list())
    order = [p[0] for p in packages]
    results = load_results()
    if args.resmoke:
        smokes = {p[0]: p[2] for p in packages}
        for name, r in list(results.items()):
            wasm = [w for w in r.get("wheels", []) if "wasm32" in w]
            if wasm and name in smokes and (not args.only or name in args.only):
                r.update(run_smoke(OUT / name / wasm[0], smokes[name], args))
                print(f"corpus: {name}: smoke {r['smoke']}: {r['smoke_output'][:80]}")
                with open(RESULTS, "a") as f:
                    f.write(json.dumps(r) + "\n")
    elif not args.report:
        OUT.mkdir(parents=True, exist_ok=True)
        todo = [p for p in packages
                if (not args.only or p[0] in args.only) and (args.rerun or p[0] not in results)]
        for i, (name, version, smoke) in enumerate(todo, 1):
            print(f"corpus: [{i}/{len(todo)}] {name} {version} …", flush=True)
            r = build(name, version, smoke, args)
            print(f"corpus:   {r['status']} in {r.get('seconds', 0):.0f} s"
                  f"{'; smoke ' + r['smoke'] if 'smoke' in r else ''}"
                  f"{'; ' + r['class'] if r.get('class') else ''}", flush=True)
            with open(RESULTS, "a") as f:
                f.write(json.dumps(r) + "\n")
            results[name] = r
    report(results, order)


if __name__ == "__main__":
    main()
