"""Part 4 of bench/run.py: one compile, three ways: the fast path
(`pyrewrite-cc emcc … -c x.c -o x.o` with its template learned), a bare
clang-14 call with exactly the arguments the template gives, and emcc.

Two sources: a trivial function (process start-up dominates: the worst case
for the fast path's own cost) and a file that includes Python.h (what an
extension's compile looks like). Each config runs `calls` compiles per run
through bench/exec_loop.c (posix_spawnp + wait), runs interleaved in a new
order each round; ratios are medians over rounds of the ratio in the same
round.
"""
import json
import os
import shutil
import statistics
import subprocess
from pathlib import Path

SOURCES = {
    "trivial": "int f(int x) { return x * 3 + 1; }\n",
    "Python.h": (
        "#define PY_SSIZE_T_CLEAN\n#include <Python.h>\n"
        "static PyObject *add(PyObject *self, PyObject *args) {\n"
        "    long a, b;\n"
        "    if (!PyArg_ParseTuple(args, \"ll\", &a, &b)) return NULL;\n"
        "    return PyLong_FromLong(a + b);\n}\n"
        "static PyMethodDef methods[] = {{\"add\", add, METH_VARARGS, NULL}, {NULL}};\n"
        "static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, \"m\", NULL, -1, methods};\n"
        "PyMODINIT_FUNC PyInit_m(void) { return PyModule_Create(&mod); }\n"
    ),
}


def part4(root: Path, work: Path, base_env, reps, calls, interleave, loop):
    fastcc = root / "target/release/pyrewrite-cc"
    emcc = shutil.which("emcc", path=base_env["PATH"])
    target = Path(os.environ.get("PYREWRITE_BENCH_TARGET", root / ".cache/target.json"))
    if not (fastcc.exists() and emcc and target.exists()):
        print("\n## 4. Per compile: not run (needs target/release/pyrewrite-cc, emcc and a "
              "target profile)")
        return
    include = json.loads(target.read_text()).get("python_include")
    d = work / "per-compile"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    env = dict(base_env, PYREWRITE_FAST_PATH="on",
               PYREWRITE_FAST_PATH_CACHE=str(d / "templates"))
    rows = []
    for label, text in SOURCES.items():
        src = d / f"{len(rows)}.c"
        src.write_text(text)
        obj = str(src.with_suffix(".o"))
        emcc_args = [emcc, "-O2", "-g0", "-fPIC", f"-I{include}", "-c", str(src), "-o", obj]
        # The first compile of the shape learns it (emcc + a proving clang).
        subprocess.run([str(fastcc), *emcc_args], env=env, check=True)
        out = subprocess.run([str(fastcc), "--explain", *emcc_args], env=env, check=True,
                             capture_output=True, text=True).stdout.strip()
        prefix = "clang (learned): "
        if not out.startswith(prefix):
            print(f"\n## 4. Per compile: not run (the template was not learned: {out})")
            return
        clang = out[len(prefix):].split(" ")
        m = max(3, calls // 4)
        res = interleave({
            "fast path": lambda: loop(work, env, "spawn", calls, str(fastcc), *emcc_args),
            "bare clang": lambda: loop(work, env, "spawn", calls, *clang),
            "emcc": lambda: loop(work, env, "spawn", m, *emcc_args),
        }, reps)
        med = {k: statistics.median(r[0] for r in v) / 1000 for k, v in res.items()}
        cpu = {k: statistics.median(r[1] for r in v) / 1000 for k, v in res.items()}

        def ratio(a, b, i=0):
            return statistics.median(x[i] / y[i] for x, y in zip(res[a], res[b]))

        rows.append((label, med, cpu, ratio("fast path", "bare clang"),
                     ratio("fast path", "bare clang", 1), ratio("emcc", "fast path"),
                     ratio("emcc", "bare clang")))
    print(f"\n## 4. Per compile: fast path, bare clang, emcc ({reps} interleaved rounds; "
          f"{calls} compiles per run, emcc {max(3, calls // 4)}; ms per compile, median)\n")
    print("| source | fast path wall | bare clang wall | emcc wall | fast path CPU "
          "| bare clang CPU | emcc CPU | fast ÷ clang (wall) | fast ÷ clang (CPU) "
          "| emcc ÷ fast | emcc ÷ clang |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, med, cpu, fc, fc_cpu, ef, ec in rows:
        print(f"| {label} | {med['fast path']:.1f} | {med['bare clang']:.1f} | "
              f"{med['emcc']:.1f} | {cpu['fast path']:.1f} | {cpu['bare clang']:.1f} | "
              f"{cpu['emcc']:.1f} | {fc:.3f} | {fc_cpu:.3f} | {ef:.1f} | {ec:.1f} |")
    print("\nThe bare clang command is the learned template's, as "
          "`pyrewrite-cc --explain` prints it. Goal (issue 13): fast path ≤ 1.2 × bare clang.")
