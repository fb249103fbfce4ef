"""Part 3 of bench/run.py: whole `pip wheel` builds of real sdists, a
many-file C one (pycryptodome) and a C++ one (marisa-trie: the marisa
library's .cc files as a setuptools static library, then a Cython-generated
.cpp extension), in every way the build can be run:

| config | what |
|---|---|
| native | the host's gcc, no preload |
| trace (`--trace3`) | native under `pyrewrite trace` |
| plain-emcc | `CC=emcc CXX=em++ LDSHARED=… AR=emar`, no preload: what a peer pays |
| run-off | `pyrewrite run`, `PYREWRITE_FAST_PATH=off`: every compile is emcc |
| run-cold | `pyrewrite run`, fast path on, empty template cache (a fresh `XDG_CACHE_HOME` per build): each command shape is learned once |
| run-warm | `pyrewrite run`, fast path on, templates learned by an earlier untimed build |
| run-ccache | as run-warm, with `launcher: ["ccache"]` in a copy of the profile and a ccache warmed by one untimed build (its own `CCACHE_DIR`) |

Every config runs once per round, in a new shuffled order each round (as
parts 1 and 2). Ratios are against baselines measured in the same run.
"""
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import time
from pathlib import Path

# (name, pip spec, file glob in .cache/bench, C++?)
SDISTS = [
    ("pycryptodome", "pycryptodome==3.20.0", "pycryptodome-3.20.0.tar.gz", False),
    ("marisa-trie", "marisa-trie==1.4.1", "marisa_trie-1.4.1.tar.gz", True),
]
# The bench's own build environment (`pip wheel --no-build-isolation`), pinned:
# marisa-trie's setup.py imports Cython. Kept in .cache/bench/venv.
VENV_REQS = ["setuptools==84.2.1", "wheel==0.48.0", "cython==3.3.1"]

CONFIGS = ["native", "plain-emcc", "run-off", "run-cold", "run-warm", "run-ccache"]


def bench_venv(root: Path) -> Path:
    venv = root / ".cache/bench/venv"
    py = venv / "bin/python"
    stamp = venv / "reqs.txt"
    if not (py.exists() and stamp.exists() and stamp.read_text() == "\n".join(VENV_REQS)):
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *VENV_REQS], check=True)
        stamp.write_text("\n".join(VENV_REQS))
    return py


def fetch_sdist(root: Path, py: Path, spec: str, fname: str) -> Path:
    cache = root / ".cache/bench"
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / fname
    if not path.exists():
        # The bench venv prepares the metadata (marisa-trie's needs Cython).
        subprocess.run([str(py), "-m", "pip", "download", "-q", "--no-deps", "--no-binary",
                        ":all:", "--no-build-isolation", spec, "-d", str(cache)], check=True)
    return path


def timed(cmd, env, cwd, log: Path):
    """Seconds for one build; its output kept in `log` (the last run's)."""
    t0 = time.monotonic()
    with open(log, "w") as out:
        subprocess.run(cmd, env=env, cwd=cwd, check=True, stdout=out, stderr=subprocess.STDOUT)
    return time.monotonic() - t0


def ccache_stats(env) -> str:
    """ccache's hit/miss counters for its CCACHE_DIR, as one line."""
    out = subprocess.run(["ccache", "--print-stats"], env=env, capture_output=True,
                         text=True).stdout
    kv = dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)
    hits = int(kv.get("direct_cache_hit", 0)) + int(kv.get("preprocessed_cache_hit", 0))
    return f"{hits} hits, {kv.get('cache_miss', '?')} misses"


def one_sdist(root, work, base_env, reps, py, pyrewrite, target, include, name, spec,
              fname, cxx, with_trace):
    sdist = fetch_sdist(root, py, spec, fname)
    top = work / name
    shutil.rmtree(top, ignore_errors=True)
    top.mkdir()
    shutil.unpack_archive(str(sdist), str(top / "src"))
    src = next((top / "src").iterdir())
    env = dict(base_env)
    emcc = shutil.which("emcc", path=env["PATH"])

    def pip(out):
        return [str(py), "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                "--no-cache-dir", "-w", str(out), str(src)]

    def fresh(cfg):
        d = top / f"w-{cfg}"
        shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(src / "build", ignore_errors=True)
        return d

    exc = " -fexceptions" if cxx else ""
    emxx = shutil.which("em++", path=env["PATH"])
    plain_env = dict(env, CC=emcc, CXX=emxx, AR=shutil.which("emar", path=env["PATH"]),
                     LDSHARED=f"{emcc} -shared -sSIDE_MODULE=1 -sWASM_BIGINT{exc}",
                     LDCXXSHARED=f"{emxx} -shared -sSIDE_MODULE=1 -sWASM_BIGINT{exc}",
                     CPPFLAGS=f"-I{include}", CFLAGS=f"-O2 -g0 -fPIC{exc}",
                     CXXFLAGS=f"-O2 -g0 -fPIC{exc}", NODE_PATH="/usr/share/nodejs")
    # (setuptools compiles C++ with CXX + CXXFLAGS + CPPFLAGS, not CFLAGS.)
    # Debian's emcc links executables (feature tests such as pycryptodome's
    # compiler_opt.py) through node + acorn, found only with NODE_PATH; every
    # cross build gets it so that they differ only in how emcc is reached.
    run_env = dict(env, NODE_PATH="/usr/share/nodejs")
    # Each run config keeps its own template cache (XDG_CACHE_HOME) and log.
    xdg = {k: top / f"xdg-{k}" for k in ("run-off", "run-warm", "run-ccache")}
    ccache_dir = top / "ccache"
    ccache_target = top / "target-ccache.json"
    prof = json.loads(Path(target).read_text())
    prof["launcher"] = ["ccache"]
    ccache_target.write_text(json.dumps(prof, indent=2))
    ccache_env = dict(run_env, CCACHE_DIR=str(ccache_dir), XDG_CACHE_HOME=str(xdg["run-ccache"]))
    cold_n = [0]

    def run(cfg, extra_env, profile=target):
        args = [str(pyrewrite), "run", "--no-verify", "--target", str(profile),
                "--events", str(top / f"{cfg}.jsonl"), "--"] + pip(fresh(cfg))
        return timed(args, dict(run_env, **extra_env), top, top / f"{cfg}.log")

    def cold():
        cold_n[0] += 1
        d = top / f"xdg-cold-{cold_n[0]}"
        shutil.rmtree(d, ignore_errors=True)
        return run("run-cold", {"XDG_CACHE_HOME": str(d)})

    def ccache_run():
        subprocess.run(["ccache", "-z"], env=ccache_env, check=True, capture_output=True)
        t = run("run-ccache", ccache_env, ccache_target)
        (top / "run-ccache.stats").write_text(ccache_stats(ccache_env))
        return t

    configs = {
        "native": lambda: timed(pip(fresh("native")), env, top, top / "native.log"),
        "plain-emcc": lambda: timed(pip(fresh("plain-emcc")), plain_env, top,
                                    top / "plain-emcc.log"),
        "run-off": lambda: run("run-off", {"PYREWRITE_FAST_PATH": "off",
                                           "XDG_CACHE_HOME": str(xdg["run-off"])}),
        "run-cold": cold,
        "run-warm": lambda: run("run-warm", {"XDG_CACHE_HOME": str(xdg["run-warm"])}),
        "run-ccache": ccache_run,
    }
    if with_trace:
        configs["trace"] = lambda: timed(
            [str(pyrewrite), "trace", "--quiet", "--events", str(top / "t.jsonl"), "--"]
            + pip(fresh("trace")), env, top, top / "trace.log")
    # Untimed: the warm configs' templates and ccache; also every build once
    # (pip's and Cython's first-run work, the page cache).
    warm = {}
    for cfg in configs:
        try:
            if cfg == "run-ccache":
                warm[cfg] = run("run-ccache", ccache_env, ccache_target)
            elif cfg != "run-cold":
                warm[cfg] = configs[cfg]()
        except subprocess.CalledProcessError as e:
            warm[cfg] = float("nan")
            print(f"(warm-up of {cfg} of {name} failed: {e}; log {top / (cfg + '.log')})")
    res = {k: [] for k in configs}
    order = list(configs)
    rng = random.Random(7)
    for _ in range(reps):
        rng.shuffle(order)
        for k in order:
            try:
                res[k].append(configs[k]())
            except subprocess.CalledProcessError as e:
                res[k].append(float("nan"))
                print(f"(config {k} of {name} failed: {e}; log {top / (k + '.log')})")
    summaries = {}
    for k in configs:
        log = top / f"{k}.log"
        lines = log.read_text(errors="replace").splitlines() if log.exists() else []
        fp = [line for line in lines if "fast path:" in line]
        summaries[k] = fp[-1].strip() if fp else ""
    wheels = {k: sorted(p.name for p in (top / f"w-{k}").glob("*.whl")) for k in configs}
    compiles = 0
    ev = top / "run-off.jsonl"
    if ev.exists():
        for line in ev.read_text().splitlines():
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if "-c" in (e.get("argv") or []) and e.get("new_argv"):
                compiles += 1
    return {
        "name": name, "spec": spec, "res": res, "warm": warm, "summaries": summaries,
        "wheels": wheels, "compiles": compiles,
        "ccache": ((top / "run-ccache.stats").read_text()
                   if (top / "run-ccache.stats").exists() else "n/a"),
    }


def med(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def paired(res, a, b):
    """Median over rounds of a ÷ b in the same round."""
    return med([x / y for x, y in zip(res[a], res[b])])


def part3(root: Path, work: Path, base_env, reps, with_trace=False, only=None):
    pyrewrite = root / "target/release/pyrewrite"
    target = Path(os.environ.get("PYREWRITE_BENCH_TARGET", root / ".cache/target.json"))
    if not target.exists():
        print(f"\n## 3. Whole build: not run (no target profile at {target}: run "
              "scripts/setup.sh, or set PYREWRITE_BENCH_TARGET to a profile)")
        return
    if not (root / "target/release/pyrewrite-cc").exists():
        print("\n## 3. Whole build: not run (target/release/pyrewrite-cc missing: "
              "scripts/build.sh --release)")
        return
    if not shutil.which("ccache", path=base_env["PATH"]):
        print("\n## 3. Whole build: not run (ccache not on PATH: scripts/setup.sh)")
        return
    include = json.loads(target.read_text()).get("python_include")
    py = bench_venv(root)
    results = []
    for name, spec, fname, cxx in SDISTS:
        if only and name not in only:
            continue
        results.append(one_sdist(root, work, base_env, reps, py, pyrewrite, target, include,
                                 name, spec, fname, cxx, with_trace))
    cols = CONFIGS + (["trace"] if with_trace else [])
    print(f"\n## 3. Whole builds: `pip wheel` ({reps} interleaved rounds, median seconds)\n")
    print("| sdist | compiles | " + " | ".join(cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for r in results:
        print(f"| {r['spec']} | {r['compiles']} | "
              + " | ".join(f"{med(r['res'][k]):.1f}" for k in cols) + " |")
    print("\nRatios: median over rounds of the ratio in the same round.\n")
    ratio_cols = [("run-warm", "plain-emcc"), ("run-cold", "plain-emcc"),
                  ("run-off", "plain-emcc"), ("run-ccache", "plain-emcc"),
                  ("run-warm", "native"), ("run-cold", "native"), ("run-ccache", "native"),
                  ("plain-emcc", "native")]
    if with_trace:
        ratio_cols.append(("trace", "native"))
    print("| sdist | " + " | ".join(f"{a} ÷ {b}" for a, b in ratio_cols) + " |")
    print("|---|" + "---|" * len(ratio_cols))
    for r in results:
        print(f"| {r['name']} | "
              + " | ".join(f"{paired(r['res'], a, b):.2f}" for a, b in ratio_cols) + " |")
    for r in results:
        print(f"\n{r['spec']}, each run (s): " + "; ".join(
            f"{k} " + ", ".join(f"{x:.1f}" for x in v) for k, v in r["res"].items()))
        print(f"Untimed warm-up runs (s): " + ", ".join(f"{k} {v:.1f}"
                                                       for k, v in r["warm"].items()))
        for k, s in r["summaries"].items():
            if s:
                print(f"- {k} (last run): `{re.sub(r'^pyrewrite: ', '', s)}`")
        print(f"- run-ccache, ccache statistics of the last timed run: {r['ccache']}")
        print("- wheels (last run): " + "; ".join(f"{k}: {', '.join(v) or 'none'}"
                                                  for k, v in r["wheels"].items()))
    print(f"\nProfile: {target}.")
    print("\nGoals (issue 13): on the many-file C sdist, `pyrewrite run` (fast path on) "
          "≤ 0.5 × plain emcc and ≤ 1.3 × native.")
