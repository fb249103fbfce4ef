#!/usr/bin/env python3
"""pyrewrite benchmarks: what interception costs, against the floor of the
technique and against the alternatives. Every figure is a ratio against a
baseline measured in the same run, interleaved, over several repetitions.

    python3 bench/run.py [--reps 7] [--parts 1,2,3]

Needs `cargo build --release --workspace` (uses target/release) and gcc; part 2b
needs emcc (scripts/setup.sh); part 3 needs the network-free sdist cache from
scripts/setup.sh. Prints markdown tables (copy into BENCHMARKS.md).
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def build_helpers(work: Path, release: Path):
    sh("gcc", "-O2", "-o", str(work / "exec_loop"), str(ROOT / "bench/exec_loop.c"))
    sh("gcc", "-O2", "-shared", "-fPIC", "-o", str(work / "floor.so"),
       str(ROOT / "bench/floor_preload.c"), "-ldl")
    (work / "fake_emcc.c").write_text("int main(void){return 0;}\n")
    sh("gcc", "-O2", "-o", str(work / "fake_emcc"), str(work / "fake_emcc.c"))
    (work / "x.c").write_text("int f(int x){return x+1;}\n")
    shim_dir = work / "shim"
    shim_dir.mkdir()
    for name in ("gcc", "cc"):
        dst = shim_dir / name
        shutil.copy(ROOT / "bench/shim_wrapper.py", dst)
        dst.chmod(0o755)
    lib = release / "libpyrewrite.so"
    if not lib.exists():
        sys.exit(f"bench: {lib} is missing: run `cargo build --release --workspace` first")
    return lib, shim_dir


def loop(work, env, mode, n, *prog):
    out = subprocess.run([str(work / "exec_loop"), mode, str(n), *prog], env=env,
                         check=True, capture_output=True, text=True).stdout
    return float(out.strip())


def stats(xs):
    return min(xs), statistics.median(xs), max(xs)


def fmt(xs):
    lo, med, hi = stats(xs)
    return f"{med:9.1f} ({lo:.1f}–{hi:.1f})"


def interleave(configs, reps):
    """Run each config once per round, `reps` rounds: drift hits all alike."""
    results = {name: [] for name in configs}
    for _ in range(reps):
        for name, fn in configs.items():
            results[name].append(fn())
    return results


def part1(work, lib, base_env, reps, n):
    print(f"\n## 1. Cost per exec of /bin/true ({n} execs per run, {reps} runs, µs per spawn+wait)\n")
    ours_log = work / "ours.jsonl"
    floor_log = work / "floor.log"
    target = work / "target-fake.json"
    print("| method | bare | floor (C preload, 1 line/exec) | libpyrewrite (events to file) "
          "| floor added | ours added | ours ÷ floor |")
    print("|---|---|---|---|---|---|---|")
    verdicts = []
    for mode in ("fork", "vfork", "spawn"):
        env_bare = dict(base_env)
        env_floor = dict(base_env, LD_PRELOAD=str(work / "floor.so"), FLOOR_LOG=str(floor_log))
        env_ours = dict(base_env, LD_PRELOAD=str(lib), PYREWRITE_EVENTS=str(ours_log),
                        PYREWRITE_TARGET=str(target))
        res = interleave({
            "bare": lambda: loop(work, env_bare, mode, n, "/bin/true"),
            "floor": lambda: loop(work, env_floor, mode, n, "/bin/true"),
            "ours": lambda: loop(work, env_ours, mode, n, "/bin/true"),
        }, reps)
        bare = statistics.median(res["bare"])
        floor_add = statistics.median(res["floor"]) - bare
        ours_add = statistics.median(res["ours"]) - bare
        ratio = ours_add / floor_add if floor_add > 0 else float("nan")
        verdicts.append(ratio)
        print(f"| {mode} | {fmt(res['bare'])} | {fmt(res['floor'])} | {fmt(res['ours'])} "
              f"| {floor_add:.1f} | {ours_add:.1f} | {ratio:.2f} |")
    events = sum(1 for _ in open(ours_log)) if ours_log.exists() else 0
    print(f"\nEvents written by libpyrewrite during part 1: {events} "
          f"(expected {3 * reps * n}: one per exec).")
    print(f"Target: ours ÷ floor ≤ 1.5 — worst method: {max(verdicts):.2f}")


def part2(work, lib, shim_dir, base_env, reps, n, emcc):
    print(f"\n## 2. Cost per compiler call (`gcc -c x.c`, {n} calls per run, {reps} runs, µs per call)\n")
    target = work / "target-fake.json"
    x = str(work / "x.c")
    o = str(work / "x.o")
    env_bare = dict(base_env, SHIM_EMCC=str(work / "fake_emcc"))
    env_ours = dict(base_env, LD_PRELOAD=str(lib), PYREWRITE_TARGET=str(target),
                    PYREWRITE_EVENTS=str(work / "ours2.jsonl"))
    env_shim = dict(base_env, PATH=f"{shim_dir}:{base_env['PATH']}",
                    SHIM_EMCC=str(work / "fake_emcc"))
    res = interleave({
        "bare": lambda: loop(work, env_bare, "spawn", n, str(work / "fake_emcc"), "-c", x, "-o", o),
        "ours": lambda: loop(work, env_ours, "spawn", n, "gcc", "-c", x, "-o", o),
        "shim": lambda: loop(work, env_shim, "spawn", n, "gcc", "-c", x, "-o", o),
    }, reps)
    bare = statistics.median(res["bare"])
    ours_add = statistics.median(res["ours"]) - bare
    shim_add = statistics.median(res["shim"]) - bare
    print("| fake emcc (exits at once) | bare emcc | libpyrewrite | Python PATH shim | ours added "
          "| shim added | shim ÷ ours |")
    print("|---|---|---|---|---|---|---|")
    print(f"| | {fmt(res['bare'])} | {fmt(res['ours'])} | {fmt(res['shim'])} | {ours_add:.1f} "
          f"| {shim_add:.1f} | {shim_add / ours_add if ours_add > 0 else float('inf'):.0f} |")
    print(f"\nTarget: ≥ 100 × cheaper per compiler call than the Python shim.")
    if not emcc:
        print("\n(real emcc not found: part 2b skipped)")
        return
    m = max(3, n // 40)
    real_target = work / "target-real.json"
    real_target.write_text(json.dumps({"emcc": emcc, "emxx": emcc + "++"}))
    env_ours_r = dict(env_ours, PYREWRITE_TARGET=str(real_target))
    env_shim_r = dict(env_shim, SHIM_EMCC=emcc)
    res = interleave({
        "bare": lambda: loop(work, base_env, "spawn", m, emcc, "-c", x, "-o", o),
        "ours": lambda: loop(work, env_ours_r, "spawn", m, "gcc", "-c", x, "-o", o),
        "shim": lambda: loop(work, env_shim_r, "spawn", m, "gcc", "-c", x, "-o", o),
    }, max(3, reps // 2))
    print(f"\n### 2b. Same with the real emcc ({m} calls per run, ms per call)\n")
    print("| bare emcc | libpyrewrite | Python PATH shim | ours ÷ bare | shim ÷ bare |")
    print("|---|---|---|---|---|")
    b = statistics.median(res["bare"])
    print(f"| {b / 1000:.1f} | {statistics.median(res['ours']) / 1000:.1f} "
          f"| {statistics.median(res['shim']) / 1000:.1f} "
          f"| {statistics.median(res['ours']) / b:.3f} | {statistics.median(res['shim']) / b:.3f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=7, help="interleaved repetitions per config")
    ap.add_argument("--n", type=int, default=400, help="execs per run in parts 1 and 2")
    ap.add_argument("--parts", default="1,2", help="comma-separated parts to run (1,2,3)")
    args = ap.parse_args()
    release = ROOT / "target/release"
    parts = {int(p) for p in args.parts.split(",")}
    print(f"# pyrewrite benchmarks\n\nMachine: {platform.node()}, {os.cpu_count()} cores, "
          f"{platform.platform()}; date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.")
    with tempfile.TemporaryDirectory(prefix="pyrewrite-bench-") as tmp:
        work = Path(tmp)
        lib, shim_dir = build_helpers(work, release)
        (work / "target-fake.json").write_text(json.dumps(
            {"emcc": str(work / "fake_emcc"), "emxx": str(work / "fake_emcc")}))
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("PYREWRITE_")
                    and k != "LD_PRELOAD"}
        base_env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
        emcc = shutil.which("emcc", path=base_env["PATH"])
        if 1 in parts:
            part1(work, lib, base_env, args.reps, args.n)
        if 2 in parts:
            part2(work, lib, shim_dir, base_env, args.reps, args.n // 2, emcc)
        if 3 in parts:
            from whole_build import part3  # noqa: E402  (bench/whole_build.py)
            part3(ROOT, work, base_env, args.reps)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
