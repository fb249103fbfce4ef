//! `pyrewrite run` ends by verifying the wasm wheels against the Pyodide the
//! target profile names (`pyodide_dir`): real pip, real libpyrewrite.so, real
//! emcc (Debian's 3.1.6), real Pyodide 0.23.4.
//!
//! Prerequisites: `/usr/bin/emcc`, `python3` with pip and setuptools, and
//! Pyodide 0.23.4 at `<repo>/.cache/pyodide-npm/node_modules/pyodide`
//! (`scripts/setup.sh` installs it) or in `$PYREWRITE_PYODIDE_DIR`.
//!
//! The target profile is the one `pyrewrite target from-pyodide` derives
//! from that Pyodide (wasm32 `pyconfig.h`), moved to `conf/` with the Pyodide
//! dir made relative to it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A setuptools project `demo` whose one extension has `body` as its module
/// function `demo.f()`, and a target profile in `conf/` naming the Pyodide
/// dist by a path relative to the profile (not to the working directory).
fn project(name: &str, includes: &str, body: &str) -> (PathBuf, PathBuf) {
    let dir = common::scratch(name);
    let write = |rel: &str, text: &str| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
    };
    write("setup.py", common::DEMO_SETUP_PY);
    write(
        "src/demo.c",
        &format!(
            "#define PY_SSIZE_T_CLEAN\n#include <Python.h>\n{includes}\n\
             static PyObject *f(PyObject *self, PyObject *args) {{ {body} }}\n\
             static PyMethodDef methods[] = {{{{\"f\", f, METH_NOARGS, 0}}, {{0, 0, 0, 0}}}};\n\
             static struct PyModuleDef def = {{PyModuleDef_HEAD_INIT, \"demo\", 0, -1, methods}};\n\
             PyMODINIT_FUNC PyInit_demo(void) {{ return PyModule_Create(&def); }}\n"
        ),
    );
    std::os::unix::fs::symlink(common::pyodide_dist(), dir.join("runtime")).unwrap();
    let mut profile = common::read_json(&common::pyodide_target());
    profile["pyodide_dir"] = "../runtime".into();
    write("conf/target.json", &profile.to_string());
    (dir.clone(), dir.join("conf/target.json"))
}

/// `pyrewrite run --target PROFILE [extra] -- pip wheel . -w wheels` in `dir`.
fn run_pip(dir: &Path, profile: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let out: Output = Command::new(common::driver_bin())
        .current_dir(dir)
        .arg("run")
        .arg("--preload")
        .arg(common::preload_lib())
        .arg("--target")
        .arg(profile)
        .args(extra)
        .arg("--")
        .args(common::PIP_WHEEL)
        .env_remove("LD_PRELOAD")
        .env_remove("PYREWRITE_TARGET")
        .output()
        .expect("run pyrewrite");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const WASM_WHEEL: &str = "wheels/demo-1.0-cp311-cp311-emscripten_3_1_32_wasm32.whl";

const TIME_BODY: &str = "return PyLong_FromLong((long)time(NULL));";

#[test]
fn a_clean_extension_verifies_clean_and_run_exits_0() {
    let (dir, profile) = project("verify-clean", "", "return PyLong_FromLong(42);");
    let (code, err) = run_pip(&dir, &profile, &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(dir.join(WASM_WHEEL).is_file(), "{err}");
    // The full report, then the verdict in the summary.
    assert!(err.contains("Pyodide 0.23.4"), "{err}");
    assert!(
        err.contains("demo.cpython-311-wasm32-emscripten.so: "),
        "{err}"
    );
    assert!(
        err.contains("ok: every import is provided with a matching type"),
        "{err}"
    );
    assert!(
        err.contains(
            "pyrewrite: verify: clean: 1 extension(s) in 1 wheel(s) against Pyodide 0.23.4\n"
        ),
        "{err}"
    );
}

#[test]
fn an_extension_calling_time_is_reported_and_run_exits_4() {
    let (dir, profile) = project("verify-time", "#include <time.h>", TIME_BODY);
    let (code, err) = run_pip(&dir, &profile, &[]);
    assert_eq!(code, Some(4), "{err}");
    // The wheel is written all the same: the build and assembly worked.
    assert!(dir.join(WASM_WHEEL).is_file(), "{err}");
    assert!(
        err.contains("error: `time` is imported as (i32) -> i32 but the runtime's main module exports (i32) -> i64"),
        "{err}"
    );
    assert!(err.contains("time_t is 32-bit in the module"), "{err}");
    assert!(
        err.contains("pyrewrite: verify: 1 error(s), 0 warning(s) in 1 extension(s) in 1 wheel(s) against Pyodide 0.23.4: some will fail to load or to run (exit 4)"),
        "{err}"
    );
}

#[test]
fn no_verify_skips_it_and_the_build_status_stands() {
    let (dir, profile) = project("verify-skip", "#include <time.h>", TIME_BODY);
    let (code, err) = run_pip(&dir, &profile, &["--no-verify", "--strict"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(dir.join(WASM_WHEEL).is_file(), "{err}");
    assert!(!err.contains("runtime:"), "verify ran: {err}");
    assert!(!err.contains("`time`"), "verify ran: {err}");
    assert!(
        err.contains("pyrewrite: verify: skipped (--no-verify)\n"),
        "{err}"
    );
}

#[test]
fn warnings_are_fatal_only_with_strict_and_quiet_prints_only_findings() {
    // clock_gettime fills a struct timespec: 32-bit time_t in the module, 64-bit
    // in the runtime. It loads, so verify warns.
    let body = "struct timespec ts; clock_gettime(CLOCK_REALTIME, &ts); \
                return PyLong_FromLong((long)ts.tv_nsec);";
    let (dir, profile) = project("verify-strict", "#include <time.h>", body);
    let (code, err) = run_pip(&dir, &profile, &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("warning: `clock_gettime`"), "{err}");
    assert!(
        err.contains("0 error(s), 1 warning(s) in 1 extension(s) in 1 wheel(s) against Pyodide 0.23.4: they load; --strict makes warnings fatal"),
        "{err}"
    );

    // A fresh project: rebuilding in the same tree would reuse setuptools'
    // build/ dir, and assembly would rightly warn that no link made the .so.
    let (dir, profile) = project("verify-strict-quiet", "#include <time.h>", body);
    let (code, err) = run_pip(&dir, &profile, &["--strict", "--quiet"]);
    assert_eq!(code, Some(4), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "--quiet prints the finding only: {err}");
    assert!(
        lines[0].starts_with("pyrewrite: warning: verify: ")
            && lines[0].contains("demo.cpython-311-wasm32-emscripten.so: `clock_gettime`"),
        "{err}"
    );
}

#[test]
fn a_pyodide_dir_without_pyodide_is_a_driver_error_naming_the_fix() {
    let (dir, profile) = project("verify-bad-dir", "", "return PyLong_FromLong(1);");
    let text = std::fs::read_to_string(&profile)
        .unwrap()
        .replace("../runtime", "../no-such-pyodide");
    std::fs::write(&profile, text).unwrap();
    let (code, err) = run_pip(&dir, &profile, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(dir.join(WASM_WHEEL).is_file(), "{err}");
    assert!(err.contains("no-such-pyodide"), "{err}");
    assert!(err.contains("or pass --no-verify"), "{err}");
    assert!(err.contains("pyrewrite: verify: could not run"), "{err}");
}
