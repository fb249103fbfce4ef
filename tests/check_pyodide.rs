//! `pyrewrite check` and `pyrewrite run --check` with real things: wheels
//! built from examples/hello-c and tests/pyodide/check-failures by `pyrewrite
//! run -- pip wheel` (real preload, real emcc 3.1.6), checked in the real
//! Pyodide 0.23.4 of .cache/pyodide-npm under node, offline (docs/check.md);
//! one C++ wheel in 0.25.1 too.
//!
//! Prerequisites as the e2e tests: scripts/setup.sh (emcc, node, Pyodide).

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

const HELLO_WHEEL: &str =
    "pyrewrite_example_hello_c-0.1.0-cp311-cp311-emscripten_3_1_32_wasm32.whl";
const FAILURES_WHEEL: &str =
    "pyrewrite_check_failures-0.1.0-cp311-cp311-emscripten_3_1_32_wasm32.whl";

/// Copies `src` (a project dir) into `dst`, without build leftovers.
fn copy_project(src: &Path, dst: &Path) {
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "build" || name == "dist" || name.to_string_lossy().ends_with(".egg-info") {
            continue;
        }
        let to = dst.join(&name);
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
            copy_project(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
}

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// `pyrewrite run --check [extra] --target <profile from Pyodide> -- pip
/// wheel` of a copy of `project`; the output and the wheels dir.
fn build(name: &str, project: &str, extra: &[&str]) -> (Output, PathBuf) {
    let dir = scratch(name);
    copy_project(&repo(project), &dir);
    let mut cmd = run_with(&pyodide_target());
    cmd.arg("--check").args(extra).arg("--").args(PIP_WHEEL);
    cmd.env_remove("LD_PRELOAD").env_remove("PYREWRITE_TARGET");
    let out = run_in(&dir, &mut cmd);
    (out, dir.join("wheels"))
}

/// The failures package, built once for the tests that need it.
fn failures_wheel() -> PathBuf {
    static W: OnceLock<PathBuf> = OnceLock::new();
    W.get_or_init(|| {
        let (out, wheels) = build(
            "check-failures",
            "tests/pyodide/check-failures",
            &["--no-verify"],
        );
        let err = stderr_of(&out);
        // run --check: the build is fine, a module does not import: exit 6.
        assert_eq!(out.status.code(), Some(6), "{err}");
        assert!(
            err.contains("pyrewrite: check: 3 of 4 module(s) failed in Pyodide 0.23.4 (exit 6)"),
            "{err}"
        );
        wheels.join(FAILURES_WHEEL)
    })
    .clone()
}

fn check(args: &[&str], wheels: &[&Path]) -> (Output, Value) {
    let mut cmd = driver();
    cmd.arg("check").arg("--json").args(args).args(wheels);
    cmd.env_remove("PYREWRITE_TARGET");
    let out = run(&mut cmd);
    let text = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "check printed no JSON ({e}):\n{text}\nstderr:\n{}",
            stderr_of(&out)
        )
    });
    (out, json)
}

fn module<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["wheels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|w| w["modules"].as_array().unwrap())
        .find(|m| m["module"] == name)
        .unwrap_or_else(|| panic!("no module {name} in {report:#}"))
}

#[test]
fn run_check_imports_hello_c_and_check_finds_the_default_profile() {
    let (out, wheels) = build("check-hello", "examples/hello-c", &[]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("  ok      hello_c._hello\n"), "{err}");
    assert!(
        err.contains("pyrewrite: check: ok: 1 module(s) imported in Pyodide 0.23.4"),
        "{err}"
    );
    let wheel = wheels.join(HELLO_WHEEL);

    // `check` alone, with the profile found as the default one
    // ($XDG_CONFIG_HOME/pyrewrite/target.json), and --code after the imports.
    let xdg = scratch("check-default-profile");
    std::fs::create_dir_all(xdg.join("pyrewrite")).unwrap();
    std::fs::copy(pyodide_target(), xdg.join("pyrewrite/target.json")).unwrap();
    let code = "import hello_c\nassert hello_c.fib(90) == 2880067194370816120, hello_c.fib(90)\n\
                print('fib(90) =', hello_c.fib(90))";
    let out = run(driver()
        .args(["check", "--code", code])
        .arg(&wheel)
        .env_remove("PYREWRITE_TARGET")
        .env("XDG_CONFIG_HOME", &xdg));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr_of(&out));
    assert!(
        text.starts_with(&format!(
            "runtime: {} (Pyodide 0.23.4, Python 3.11.2, emscripten_3_1_32_wasm32)",
            pyodide_dist().display()
        )),
        "{text}"
    );
    assert!(text.contains("  ok      hello_c._hello\n"), "{text}");
    assert!(text.contains("\ncode: ok\n"), "{text}");
    assert!(stderr_of(&out).contains("fib(90) = 2880067194370816120"));
}

#[test]
fn each_failure_is_named_per_module_and_exits_1() {
    let wheel = failures_wheel();
    let (out, report) = check(&["--pyodide", pyodide_dist().to_str().unwrap()], &[&wheel]);
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    assert_eq!(report["schema"], "pyrewrite-check/1");
    assert_eq!(report["runtime"]["pyodide"], "0.23.4");
    assert_eq!(report["ok"], false);
    assert_eq!(report["summary"]["modules"], 4);
    assert_eq!(report["summary"]["failed"], 3);

    let fine = module(&report, "broken.fine");
    assert_eq!(fine["status"], "ok");
    assert!(fine["file"]
        .as_str()
        .unwrap()
        .ends_with("broken/fine.cpython-311-wasm32-emscripten.so"));

    // The LinkError, with the import that did not match.
    let link = module(&report, "broken.link_error");
    assert_eq!(link["status"], "load-error");
    let e = link["error"].as_str().unwrap();
    assert!(
        e.contains("LinkError") && e.contains("function=\"time\"") && e.contains("does not match"),
        "{e}"
    );

    // Loads and imports, but calls a function nobody defines.
    let missing = module(&report, "broken.missing");
    assert_eq!(missing["status"], "missing-symbols");
    assert_eq!(
        missing["missing"],
        serde_json::json!([{"name": "pyrewrite_check_undefined_function", "kind": "function"}])
    );

    // The exception its init raised.
    let raises = module(&report, "broken.raises");
    assert_eq!(raises["status"], "import-error");
    assert_eq!(
        raises["error"],
        "exception in module init: RuntimeError: raises: init failed on purpose"
    );
    assert!(raises["traceback"]
        .as_str()
        .unwrap()
        .contains("Traceback (most recent call last)"));
}

#[test]
fn a_native_tag_a_failing_snippet_and_bad_input() {
    let wheel = failures_wheel();
    let dir = scratch("check-bad");
    // Same bytes, a linux tag: micropip would refuse it, so does check.
    let native = dir.join("pyrewrite_check_failures-0.1.0-cp311-cp311-linux_x86_64.whl");
    std::fs::copy(&wheel, &native).unwrap();
    let dist = pyodide_dist();
    let (out, report) = check(
        &[
            "--pyodide",
            dist.to_str().unwrap(),
            "--code",
            "import broken.fine\nraise ValueError('snippet failed: ' + str(broken.fine.answer()))",
        ],
        &[&native],
    );
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    let w = &report["wheels"][0];
    assert_eq!(w["installed"], false);
    let e = w["error"].as_str().unwrap();
    assert!(
        e.contains("not installable") && e.contains("linux_x86_64"),
        "{e}"
    );
    // Nothing of it was installed: the snippet cannot import it.
    assert_eq!(report["code"]["ok"], false);
    assert!(
        report["code"]["error"]
            .as_str()
            .unwrap()
            .contains("ModuleNotFoundError: No module named 'broken'"),
        "{report:#}"
    );

    // Bad input is exit 2, with the file or the missing piece named.
    let out = run(driver()
        .args(["check", "--pyodide"])
        .arg(&dist)
        .arg("/nonexistent/x-1.0-py3-none-any.whl"));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("/nonexistent/x-1.0-py3-none-any.whl"));

    let out = run(driver()
        .args(["check", "--node", "/nonexistent/node", "--pyodide"])
        .arg(&dist)
        .arg(&wheel));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("/nonexistent/node") && err.contains("install Node.js"),
        "{err}"
    );

    // No --pyodide and no profile: the profile's message.
    let out = run(driver()
        .arg("check")
        .arg(&wheel)
        .env_remove("PYREWRITE_TARGET"));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("no target profile") && err.contains("pyrewrite target from-pyodide"),
        "{err}"
    );
}

/// The second Pyodide release (0.25.1, Emscripten 3.1.46), installed by
/// scripts/setup.sh next to 0.23.4.
fn second_dist() -> PathBuf {
    let dir = repo(".cache/pyodide-npm-0.25.1/node_modules/pyodide");
    assert!(
        dir.join("pyodide.asm.wasm").is_file(),
        "Pyodide 0.25.1 not found at {}: run scripts/setup.sh",
        dir.display()
    );
    dir
}

/// C++ modules that instantiate templates (std::string, std::vector<std::string>,
/// an istringstream) define them weakly themselves and import them too; the
/// loader resolves those to the module's own exports, which Emscripten 3.1.46
/// keeps as `dso.exports` instead of 3.1.32's `dso.module`. The same wheels
/// (retagged), with the profile's libc++ compat object linked in, must check
/// clean on both releases. (Measured without reading `dso.exports`: 0.25.1
/// reported 11 symbols for `_cxxstr`, among them its own template instances.)
#[test]
fn cxx_modules_check_clean_on_both_releases() {
    let mut first = Vec::new();
    for example in ["cxx-exceptions", "multi-ext"] {
        let (out, wheels) = build(
            &format!("check-{example}"),
            &format!("examples/{example}"),
            &["--no-verify"],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
        first.push(
            std::fs::read_dir(&wheels)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.to_string_lossy().ends_with("_wasm32.whl"))
                .unwrap_or_else(|| panic!("no wasm wheel in {}", wheels.display())),
        );
    }
    let second_dir = scratch("check-cxx-second");
    let retag = run(driver()
        .arg("retag")
        .arg("--target")
        .arg(pyodide_target())
        .args(["--platform-tag", "emscripten_3_1_46_wasm32", "--out"])
        .arg(&second_dir)
        .args(&first));
    assert_ok(&retag, "pyrewrite retag");
    let second: Vec<PathBuf> = first
        .iter()
        .map(|w| {
            second_dir.join(
                w.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .replace("emscripten_3_1_32", "emscripten_3_1_46"),
            )
        })
        .collect();

    for (release, dist, wheels) in [
        ("0.23.4", pyodide_dist(), &first),
        ("0.25.1", second_dist(), &second),
    ] {
        let wheels: Vec<&Path> = wheels.iter().map(PathBuf::as_path).collect();
        let (out, report) = check(&["--pyodide", dist.to_str().unwrap()], &wheels);
        assert_eq!(out.status.code(), Some(0), "{release}: {report:#}");
        assert_eq!(report["runtime"]["pyodide"], release);
        for name in [
            "multi_ext._cmath",
            "cxx_exceptions._cxx",
            "multi_ext.sub._cxxstr",
        ] {
            assert_eq!(
                module(&report, name)["status"],
                "ok",
                "{release}: {report:#}"
            );
        }
    }
}
