"""Part 3 of bench/run.py: a whole `pip wheel` of a real sdist with many
extensions (pycryptodome), natively without preload, natively under
`pyrewrite trace`, and cross under `pyrewrite run` against a plain
`CC=emcc LDSHARED=...` cross build of the same source."""
import json
import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path

SDIST = "pycryptodome==3.20.0"


def fetch_sdist(root: Path) -> Path:
    cache = root / ".cache/bench"
    cache.mkdir(parents=True, exist_ok=True)
    found = sorted(cache.glob("pycryptodome-*.tar.gz"))
    if not found:
        subprocess.run(["python3", "-m", "pip", "download", "-q", "--no-deps", "--no-binary",
                        ":all:", SDIST, "-d", str(cache)], check=True)
        found = sorted(cache.glob("pycryptodome-*.tar.gz"))
    return found[0]


def timed(cmd, env, cwd):
    t0 = time.monotonic()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.monotonic() - t0


def part3(root: Path, work: Path, base_env, reps):
    sdist = fetch_sdist(root)
    src = work / "src"
    shutil.unpack_archive(str(sdist), str(src))
    src = next(src.iterdir())
    pyrewrite = root / "target/release/pyrewrite"
    target = Path(os.environ.get("PYREWRITE_BENCH_TARGET", root / ".cache/target.json"))
    if not target.exists():
        print(f"\n## 3. Whole build: not run (no target profile at {target}: run "
              "scripts/setup.sh, or set PYREWRITE_BENCH_TARGET to a profile)")
        return
    include = json.loads(target.read_text()).get("python_include")
    env = dict(base_env)
    emcc = shutil.which("emcc", path=env["PATH"])

    def pip(out):
        return ["python3", "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                "--no-cache-dir", "-w", str(out), str(src)]

    def fresh(name):
        d = work / name
        shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(src / "build", ignore_errors=True)
        return d

    plain_env = dict(env, CC=emcc, CXX=emcc + "++", LDSHARED=f"{emcc} -shared -sSIDE_MODULE=1 -sWASM_BIGINT",
                     CFLAGS=f"-I{include} -O2 -g0 -fPIC", NODE_PATH="/usr/share/nodejs")
    # Debian's emcc links executables (feature tests such as pycryptodome's
    # compiler_opt.py) through node + acorn, found only with NODE_PATH; both
    # cross builds get it so that they differ only in how emcc is reached.
    run_env = dict(env, NODE_PATH="/usr/share/nodejs")
    configs = {
        "native": lambda: timed(pip(fresh("w-native")), env, work),
        "trace": lambda: timed([str(pyrewrite), "trace", "--quiet", "--events", str(work / "t.jsonl"),
                                "--compdb", str(work / "t.json"), "--"] + pip(fresh("w-trace")), env, work),
        "plain-emcc": lambda: timed(pip(fresh("w-plain")), plain_env, work),
        "run": lambda: timed([str(pyrewrite), "run", "--quiet", "--no-verify", "--target", str(target),
                              "--events", str(work / "r.jsonl"), "--compdb", str(work / "r.json"), "--"]
                             + pip(fresh("w-run")), run_env, work),
    }
    res = {k: [] for k in configs}
    for _ in range(reps):
        for k, fn in configs.items():
            try:
                res[k].append(fn())
            except subprocess.CalledProcessError as e:
                res[k].append(float("nan"))
                print(f"(config {k} failed: {e})")
    med = {k: statistics.median(v) for k, v in res.items()}
    wheels = {k: sorted(p.name for p in (work / f"w-{k}").glob("*.whl"))
              for k in ("native", "trace", "plain", "run")}
    events = {k: sum(1 for _ in open(work / f)) if (work / f).exists() else 0
              for k, f in (("trace", "t.jsonl"), ("run", "r.jsonl"))}
    print(f"\n## 3. Whole build: `pip wheel` of {SDIST} ({reps} runs each, seconds)\n")
    print("| native | native under `trace` | plain `CC=emcc` cross | `pyrewrite run` cross "
          "| trace ÷ native | run ÷ plain |")
    print("|---|---|---|---|---|---|")
    print(f"| {med['native']:.1f} | {med['trace']:.1f} | {med['plain-emcc']:.1f} | {med['run']:.1f} "
          f"| {med['trace'] / med['native']:.3f} | {med['run'] / med['plain-emcc']:.3f} |")
    print("\nEach run (s): " + "; ".join(f"{k} " + ", ".join(f"{x:.1f}" for x in v)
                                        for k, v in res.items()))
    print(f"\nEvents recorded (last run): trace {events['trace']}, run {events['run']}. "
          f"Wheels (last run): " + "; ".join(f"{k}: {', '.join(v) or 'none'}"
                                             for k, v in wheels.items()))
    print(f"Profile: {target}.")
    print("\nTargets: trace ≤ 1.02 × native, run ≤ 1.02 × the plain emcc build.")
