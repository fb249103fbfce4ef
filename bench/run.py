#!/usr/bin/env python3
"""pyrewrite benchmarks: what interception costs, against the floor of the
technique and against the alternatives. Every figure is a ratio against a
baseline measured in the same run, interleaved, over several repetitions.

    python3 bench/run.py [--reps 15] [--n 300] [--parts 1,2,3,4] [--reps3 1]
                         [--trace3] [--sdists3 NAME,...] [--reps4 15] [--calls4 20]
                         [--compare NAME=LIB ...]

Needs `scripts/build.sh --release` (uses target/release) and gcc; part 2b
needs emcc (scripts/setup.sh); part 3 needs ccache (scripts/setup.sh) and downloads its sdists
and a bench venv (pinned setuptools, wheel, Cython) into .cache/bench once; part 4 needs emcc and target/release/pyrewrite-cc.
valgrind, if installed, adds a noise-free instruction count
to part 1. Prints markdown tables (copy into BENCHMARKS.md).
"""
import argparse
import json
import os
import platform
import random
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
    build_rust_floors(work)
    lib = release / "libpyrewrite.so"
    if not lib.exists():
        sys.exit(f"bench: {lib} is missing: run `scripts/build.sh --release` first")
    return lib, shim_dir


def build_rust_floors(work: Path):
    """bench/floor_rust.rs with std (as libpyrewrite.so linked it until it went
    `no_std`) and without (`#![no_std]`, panic=abort), with release link
    flags: they separate the cost of the Rust runtime from that of our hooks."""
    if not shutil.which("rustc"):
        return
    flags = ["--edition", "2021", "--crate-type", "cdylib", "-C", "opt-level=s", "-C", "lto",
             "-C", "codegen-units=1", "-C", "relro-level=partial", "-C", "strip=debuginfo"]
    src = str(ROOT / "bench/floor_rust.rs")
    sh("rustc", *flags, "-o", str(work / "floor_rust_std.so"), src)
    sh("rustc", *flags, "--cfg", "nostd", "-C", "panic=abort", "-o",
       str(work / "floor_rust_nostd.so"), src)


def loop(work, env, mode, n, *prog):
    """One run of exec_loop: (wall µs, CPU µs, minor page faults) per spawn+wait."""
    out = subprocess.run([str(work / "exec_loop"), mode, str(n), *prog], env=env,
                         check=True, capture_output=True, text=True).stdout
    wall, cpu, faults = (float(x) for x in out.split())
    return wall, cpu, faults


def fmt(xs):
    """median (min–max)"""
    return f"{statistics.median(xs):.1f} ({min(xs):.1f}–{max(xs):.1f})"


def interleave(configs, reps):
    """Run each config once per round, `reps` rounds, in a new random order
    each round (fixed seed): drift and a busy neighbour hit all configs alike,
    and no config always runs right after the baseline."""
    results = {name: [] for name in configs}
    order = list(configs)
    rng = random.Random(7)
    for _ in range(reps):
        rng.shuffle(order)
        for name in order:
            results[name].append(configs[name]())
    return results


def added(res, name, base, i):
    """Median over rounds of (config − base) in the same round: the paired
    difference cancels drift that a difference of medians keeps."""
    return statistics.median(r[i] - b[i] for r, b in zip(res[name], res[base]))


def ratio(ours, floor):
    return f"{ours / floor:.2f}" if floor > 0 else "n/a (floor ≤ 0: noise)"


def loader_instructions(lib_env):
    """User-space instructions (valgrind callgrind `Ir`) of one `/bin/true`
    under the given environment: dynamic loader + library constructors +
    the program. Deterministic, unlike time on a shared machine."""
    if not shutil.which("valgrind"):
        return None
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "cg.out"
        subprocess.run(["valgrind", "-q", "--tool=callgrind", f"--callgrind-out-file={out}",
                        "/bin/true"], env=lib_env, check=True, capture_output=True)
        for line in out.read_text().splitlines():
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    return None


def part1(work, lib, base_env, reps, n, compare=()):
    print(f"\n## 1. Cost per exec of /bin/true ({n} execs per run, {reps} interleaved runs)\n")
    ours_log = work / "ours.jsonl"
    target = work / "target-fake.json"
    envs = {
        "bare": dict(base_env),
        "floor": dict(base_env, LD_PRELOAD=str(work / "floor.so"),
                      FLOOR_LOG=str(work / "floor.log")),
        "ours": dict(base_env, LD_PRELOAD=str(lib), PYREWRITE_EVENTS=str(ours_log),
                     PYREWRITE_TARGET=str(target)),
    }
    for name in ("floor_rust_std", "floor_rust_nostd"):
        if (work / f"{name}.so").exists():
            envs[name] = dict(base_env, LD_PRELOAD=str(work / f"{name}.so"),
                              FLOOR_LOG=str(work / f"{name}.log"))
    # Other builds of libpyrewrite.so (--compare), same session as "ours".
    for name, other in compare:
        envs[name] = dict(base_env, LD_PRELOAD=str(other),
                          PYREWRITE_EVENTS=str(work / f"{name}.jsonl"),
                          PYREWRITE_TARGET=str(target))
    print("Columns: µs per spawn+wait as median (min–max) over runs; *added* = median over "
          "runs of (preloaded − bare) in the same round. CPU = user+sys time of the loop and "
          "all its children (getrusage), which excludes time spent waiting for a CPU; faults = "
          "minor page faults per exec (parent + child), nearly deterministic.\n")
    print("| method | measure | bare | floor (C preload, 1 line/exec) | libpyrewrite "
          "(events to file) | floor added | ours added | ours ÷ floor |")
    print("|---|---|---|---|---|---|---|---|")
    verdicts = {"wall": [], "CPU": [], "faults": []}
    anatomy = []
    for mode in ("fork", "vfork", "spawn"):
        res = interleave({k: (lambda e=e: loop(work, e, mode, n, "/bin/true"))
                          for k, e in envs.items()}, reps)
        for i, measure in enumerate(("wall", "CPU", "faults")):
            col = {k: [r[i] for r in v] for k, v in res.items()}
            f_add, o_add = added(res, "floor", "bare", i), added(res, "ours", "bare", i)
            if f_add > 0:
                verdicts[measure].append(o_add / f_add)
            print(f"| {mode} | {measure} | {fmt(col['bare'])} | {fmt(col['floor'])} "
                  f"| {fmt(col['ours'])} | {f_add:.1f} | {o_add:.1f} | {ratio(o_add, f_add)} |")
            if measure != "wall":
                anatomy.append((mode, measure, {k: added(res, k, "bare", i)
                                                for k in envs if k != "bare"}))
    events = sum(1 for _ in open(ours_log)) if ours_log.exists() else 0
    print(f"\nEvents written by libpyrewrite during part 1: {events} "
          f"(expected {3 * reps * n}: one per exec).")
    worst = {k: f"{max(v):.2f}" if v else "n/a" for k, v in verdicts.items()}
    print(f"\nTarget: ours ÷ floor ≤ 1.5. Worst method by wall {worst['wall']}, "
          f"by CPU {worst['CPU']}, by page faults {worst['faults']}.")
    if len(envs) < 5:
        return
    print("\n### 1b. Where our cost comes from: the same floor in Rust, with and without std\n")
    print("Added cost per exec over bare (median of paired differences, same runs as above). "
          "`floor_rust_std` is bench/floor_rust.rs: the C floor's five hooks in Rust with "
          "`std` linked but unused (as libpyrewrite.so was before it went `no_std`); "
          "`floor_rust_nostd` is the same file as `#![no_std]` (as libpyrewrite.so is now)."
          + "".join(f" `{name}` is {path} (--compare)." for name, path in compare) + "\n")
    names = [k for k in envs if k != "bare"]
    print("| method | measure | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for mode, measure, adds in anatomy:
        print(f"| {mode} | {measure} | " + " | ".join(f"{adds[k]:.1f}" for k in names) + " |")
    ir = {k: loader_instructions(e) for k, e in envs.items()}
    if all(ir.values()):
        print("\nUser-space instructions to start one preloaded `/bin/true` (valgrind "
              "callgrind: dynamic loader + library constructors + the program; kernel work "
              f"such as exec, mmap and page faults is not counted). Bare: {ir['bare']:,}.\n")
        print("| " + " | ".join(names) + " |")
        print("|" + "---|" * len(names))
        print("| " + " | ".join(f"+{ir[k] - ir['bare']:,}" for k in names) + " |")


def part2(work, lib, shim_dir, base_env, reps, n, emcc):
    print(f"\n## 2. Cost per compiler call (`gcc -c x.c`, {n} calls per run, {reps} runs, "
          "µs per call)\n")
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
    print("Fake emcc that exits at once, so that compile time does not hide the overhead. "
          "*added* = median over runs of (config − bare emcc) in the same round.\n")
    print("| measure | bare emcc | libpyrewrite | Python PATH shim | ours added | shim added "
          "| shim ÷ ours |")
    print("|---|---|---|---|---|---|---|")
    for i, measure in enumerate(("wall", "CPU")):
        col = {k: [r[i] for r in v] for k, v in res.items()}
        o_add, s_add = added(res, "ours", "bare", i), added(res, "shim", "bare", i)
        if o_add > 0:
            times = f"{s_add / o_add:.0f}"
        else:
            # Our median is lost in the noise: bound it by the upper quartile.
            diffs = sorted(r[i] - b[i] for r, b in zip(res["ours"], res["bare"]))
            q3 = diffs[(3 * len(diffs)) // 4]
            times = (f"≥ {s_add / q3:.0f} (ours' median ≤ 0; bound from its upper quartile "
                     f"{q3:.1f} µs)" if q3 > 0 else "n/a (ours within noise of 0)")
        print(f"| {measure} | {fmt(col['bare'])} | {fmt(col['ours'])} | {fmt(col['shim'])} "
              f"| {o_add:.1f} | {s_add:.1f} | {times} |")
    print("\nTarget: ≥ 100 × cheaper per compiler call than the Python shim.")
    if not emcc:
        print("\n(real emcc not found: part 2b skipped)")
        return
    m = max(3, n // 40)
    real_target = work / "target-real.json"
    real_target.write_text(json.dumps({"emcc": emcc, "emxx": emcc + "++"}))
    env_ours_r = dict(env_ours, PYREWRITE_TARGET=str(real_target))
    env_shim_r = dict(env_shim, SHIM_EMCC=emcc)
    reps_b = max(3, reps // 2)
    res = interleave({
        "bare": lambda: loop(work, base_env, "spawn", m, emcc, "-c", x, "-o", o),
        "ours": lambda: loop(work, env_ours_r, "spawn", m, "gcc", "-c", x, "-o", o),
        "shim": lambda: loop(work, env_shim_r, "spawn", m, "gcc", "-c", x, "-o", o),
    }, reps_b)
    print(f"\n### 2b. Same with the real emcc ({m} calls per run, {reps_b} runs, ms per call, "
          "wall)\n")
    print("| bare emcc | libpyrewrite | Python PATH shim | ours ÷ bare | shim ÷ bare |")
    print("|---|---|---|---|---|")
    med = {k: statistics.median(r[0] for r in v) for k, v in res.items()}
    print(f"| {med['bare'] / 1000:.1f} | {med['ours'] / 1000:.1f} | {med['shim'] / 1000:.1f} "
          f"| {med['ours'] / med['bare']:.3f} | {med['shim'] / med['bare']:.3f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=15, help="interleaved repetitions per config")
    ap.add_argument("--n", type=int, default=300, help="execs per run in parts 1 and 2")
    ap.add_argument("--parts", default="1,2", help="comma-separated parts to run (1,2,3,4)")
    ap.add_argument("--reps3", type=int, default=1,
                    help="interleaved repetitions of each whole build in part 3 (minutes each)")
    ap.add_argument("--reps4", type=int, default=15,
                    help="interleaved rounds of part 4 (per compile)")
    ap.add_argument("--calls4", type=int, default=20,
                    help="part 4: compiles per run (emcc a quarter of that)")
    ap.add_argument("--trace3", action="store_true",
                    help="part 3 also builds natively under `pyrewrite trace`")
    ap.add_argument("--sdists3", default="",
                    help="part 3: comma-separated subset of its sdists (default: all)")
    ap.add_argument("--compare", action="append", default=[], metavar="NAME=LIB",
                    help="part 1 also measures this other build of libpyrewrite.so "
                         "(e.g. an older commit's), as column NAME; repeatable")
    args = ap.parse_args()
    compare = []
    for item in args.compare:
        name, sep, path = item.partition("=")
        if not sep or not name or not Path(path).is_file():
            sys.exit(f"bench: --compare {item!r}: expected NAME=PATH of an existing library")
        compare.append((name, Path(path).resolve()))
    release = ROOT / "target/release"
    parts = {int(p) for p in args.parts.split(",")}
    print(f"# pyrewrite benchmarks\n\nMachine: {platform.node()}, {os.cpu_count()} cores, "
          f"{platform.platform()}; date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
          f"load average at start {os.getloadavg()[0]:.1f}.")
    with tempfile.TemporaryDirectory(prefix="pyrewrite-bench-") as tmp:
        work = Path(tmp)
        lib, shim_dir = build_helpers(work, release)
        print(f"Library: {lib} ({lib.stat().st_size // 1024} KiB).")
        (work / "target-fake.json").write_text(json.dumps(
            {"emcc": str(work / "fake_emcc"), "emxx": str(work / "fake_emcc")}))
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("PYREWRITE_")
                    and k != "LD_PRELOAD"}
        base_env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
        emcc = shutil.which("emcc", path=base_env["PATH"])
        if 1 in parts:
            part1(work, lib, base_env, args.reps, args.n, compare)
        if 2 in parts:
            part2(work, lib, shim_dir, base_env, args.reps, args.n // 2, emcc)
        if 3 in parts:
            from whole_build import part3  # noqa: E402  (bench/whole_build.py)
            part3(ROOT, work, base_env, args.reps3, with_trace=args.trace3,
                  only=[x for x in args.sdists3.split(",") if x])
        if 4 in parts:
            from per_compile import part4  # noqa: E402  (bench/per_compile.py)
            part4(ROOT, work, base_env, args.reps4, args.calls4, interleave, loop)
        print(f"\nLoad average at end: {os.getloadavg()[0]:.1f}.")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
