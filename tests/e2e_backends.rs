//! The build backends whose configure step asks questions a compiler rewrite
//! alone cannot answer (issue 12): meson-python (`meson setup`, `cc.sizeof`,
//! `cc.run`), scikit-build-core (CMake, `check_type_size`, `try_run`) and a
//! setuptools package running an autoconf `./configure` (`AC_CHECK_SIZEOF`,
//! `AC_RUN_IFELSE`). Each example records in its extension the sizes its
//! configure step found by a size check and by running a program it compiled;
//! built under `pyrewrite run` and loaded in Pyodide 0.23.4 (and, retagged, in
//! the second release, 0.25.1) they must be the
//! wasm32 ones (4, 4), and the event log must show how: the configure step
//! rewritten, the probe programs linked for node and run. Built natively (the
//! control) the same examples report x86_64's (8, 8), so a 4 cannot come from
//! the examples themselves.
//!
//! pip (and pypa/build) fetch meson-python, scikit-build-core and their
//! dependencies from PyPI for the isolated builds.

mod common;
#[path = "e2e_support/mod.rs"]
mod support;

use pyrewrite_protocol::{Action, Event};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::{build, copy_tree, pyodide, E2e, Via};

/// One example: its directory under examples/, its import package, and the
/// checksum function its C module computes with the Python expression that
/// must give the same value.
struct Example {
    dir: &'static str,
    package: &'static str,
    checksum: &'static str,
    reference: &'static str,
}

/// The checksummed data: every byte value, 40 times (10 KiB).
const DATA: &str = "bytes(range(256)) * 40";

const MESON: Example = Example {
    dir: "meson-sizes",
    package: "meson_sizes",
    checksum: "adler32",
    reference: "__import__('zlib').adler32",
};
const CMAKE: Example = Example {
    dir: "cmake-sizes",
    package: "cmake_sizes",
    checksum: "crc32",
    reference: "__import__('zlib').crc32",
};
const AUTOCONF: Example = Example {
    dir: "autoconf-sizes",
    package: "autoconf_sizes",
    checksum: "fnv1a32",
    reference: "lambda d: __import__('functools').reduce(\
                lambda h, b: ((h ^ b) * 16777619) & 0xFFFFFFFF, d, 2166136261)",
};

impl Example {
    fn module(&self) -> String {
        format!("{}._sizes", self.package)
    }

    fn src(&self, e: &E2e, scratch: &Path) -> PathBuf {
        copy_tree(
            &e.root.join("examples").join(self.dir),
            &scratch.join("src"),
        )
    }

    /// Probes: the sizes, the first bytes of the module's file (wasm or ELF
    /// magic), and the checksum next to Python's reference value.
    fn probes(&self) -> Vec<(String, String)> {
        let p = self.package;
        let m = self.module();
        vec![
            (format!("{p}.sizes"), format!("{p}.sizes()")),
            (
                format!("{p}.magic"),
                format!("open(sys.modules[{m:?}].__file__, 'rb').read(4).hex()"),
            ),
            (
                format!("{p}.checksum"),
                format!(
                    "[{p}.{}({DATA}), ({})({DATA})]",
                    self.checksum, self.reference
                ),
            ),
            // meson-sizes computes its checksum with `dependency('zlib')`:
            // the zlib it runs with is the one Python's own zlib module uses
            // (in Pyodide: the runtime's, offered by the profile's
            // pkg_config_libdir).
            (
                format!("{p}.zlib"),
                if p == "meson_sizes" {
                    format!("[{p}.zlib_version(), __import__('zlib').ZLIB_RUNTIME_VERSION]")
                } else {
                    "None".to_string()
                },
            ),
        ]
    }
}

/// What `sizes()` returns when `long` and `void*` are `n` bytes: the size
/// check's answer, the probe program's answer, and the module's own sizes.
fn sizes(n: u32) -> Value {
    let both = json!({"long": n, "void*": n});
    json!({"compile_time": both, "run_time": both, "module": both})
}

/// Python for [`pyodide`] or [`native_python`]: imports the examples' modules
/// and evaluates their probes.
fn probe_code(examples: &[&Example]) -> String {
    let modules: Vec<String> = examples.iter().map(|x| x.module()).collect();
    let modules: Vec<&str> = modules.iter().map(String::as_str).collect();
    let probes: Vec<(String, String)> = examples.iter().flat_map(|x| x.probes()).collect();
    let probes: Vec<(&str, &str)> = probes
        .iter()
        .map(|(n, x)| (n.as_str(), x.as_str()))
        .collect();
    support::probe_code(&modules, &probes)
}

/// Asserts what `example`'s probes returned: `n`-byte sizes, the module file
/// starting with `magic`, the checksum equal to Python's.
fn assert_values(out: &Value, example: &Example, n: u32, magic: &str) {
    let values = &out["result"]["values"];
    let p = example.package;
    assert_eq!(values[format!("{p}.sizes")], sizes(n), "{p}: {out:#}");
    assert_eq!(values[format!("{p}.magic")], json!(magic), "{p}: {out:#}");
    let sums = values[format!("{p}.checksum")]
        .as_array()
        .unwrap_or_else(|| panic!("{p}: no checksum: {out:#}"));
    assert!(
        sums.len() == 2 && sums[0] == sums[1] && sums[0].as_u64().is_some_and(|v| v != 0),
        "{p}: {}(data) must equal the reference: {sums:?}",
        example.checksum
    );
    let zlib = &values[format!("{p}.zlib")];
    if p == "meson_sizes" {
        assert!(
            zlib[0].is_string() && zlib[0] == zlib[1],
            "{p}: the module's zlib must be the interpreter's: {zlib}"
        );
    } else {
        assert_eq!(zlib, &Value::Null, "{p}: {out:#}");
    }
}

/// The wasm magic `\0asm` and ELF's `\x7fELF`, as the probes print them.
const WASM_MAGIC: &str = "0061736d";
const ELF_MAGIC: &str = "7f454c46";

/// Asserts `built` is one wasm32 wheel, written with `pyrewrite run` exiting 0
/// (its import check against Pyodide clean), and returns it.
fn one_wasm_wheel(name: &str, built: support::Built) -> PathBuf {
    assert_eq!(
        built.verify_errors, None,
        "{name}: `pyrewrite run` exited 4: verify found errors"
    );
    assert_eq!(built.wheels.len(), 1, "{name}: {:?}", built.wheels);
    let file = built.wheels[0].file_name().unwrap().to_string_lossy();
    assert!(
        file.ends_with("-cp311-cp311-emscripten_3_1_32_wasm32.whl"),
        "{name}: {file}"
    );
    built.wheels[0].clone()
}

/// `-o` output of a command, made absolute against `cwd`.
fn output_of(args: &[String], cwd: &str) -> Option<PathBuf> {
    let o = args.iter().position(|a| a == "-o")?;
    Some(Path::new(cwd).join(args.get(o + 1)?))
}

/// The programs a build linked for node (rewritten program links: emcc with
/// `-sNODERAWFS=1`), as absolute paths.
fn wasm_programs(events: &[Event]) -> HashSet<PathBuf> {
    events
        .iter()
        .filter(|ev| ev.action == Action::Rewrite)
        .filter_map(|ev| {
            let new = ev.new_argv.as_ref()?;
            new.iter()
                .any(|a| a == "-sNODERAWFS=1")
                .then(|| output_of(&ev.argv, &ev.cwd))?
        })
        .collect()
}

/// The execs that ran one of the build's wasm programs: `node PROGRAM` (meson's
/// exe_wrapper, CMake's emulator) or `./conftest` itself (its `#!` line names
/// node; autoconf).
fn wasm_program_runs<'a>(events: &'a [Event], programs: &HashSet<PathBuf>) -> Vec<&'a Event> {
    events
        .iter()
        .filter(|ev| {
            let base = Path::new(&ev.path).file_name().unwrap_or_default();
            let runs_node = base == "node" || base == "nodejs";
            let target = if runs_node {
                ev.argv.get(1).map(|p| Path::new(&ev.cwd).join(p))
            } else {
                Some(Path::new(&ev.cwd).join(&ev.path))
            };
            target.is_some_and(|t| programs.contains(&t))
        })
        .collect()
}

/// Asserts the event log of `example`'s build shows its configure step
/// handled in flight: meson setup / cmake configure rewritten (a cross file /
/// toolchain added), probe programs linked for node and run.
fn assert_configure_events(example: &Example, out: &Path) {
    let events = support::run_events(out);
    let name = example.dir;
    let configure = |tool: &str, flag: &str| {
        let rewritten: Vec<&Event> = events
            .iter()
            .filter(|ev| ev.tool.as_deref() == Some(tool) && ev.action == Action::Rewrite)
            .collect();
        assert!(
            rewritten.iter().any(|ev| ev
                .new_argv
                .as_ref()
                .unwrap()
                .iter()
                .any(|a| a.starts_with(flag))),
            "{name}: no {tool} configure rewritten with {flag}: {rewritten:#?}"
        );
    };
    match name {
        "meson-sizes" => configure("meson", "--cross-file="),
        "cmake-sizes" => configure("cmake", "-DCMAKE_TOOLCHAIN_FILE="),
        _ => {
            // The configure script itself is a shell script; what it runs is
            // rewritten (its test links for node) and run (below).
            assert!(
                events
                    .iter()
                    .any(|ev| ev.argv.iter().any(|a| a.ends_with("/configure"))
                        && ev.action == Action::Passthrough),
                "{name}: no exec of ./configure in the event log"
            );
        }
    }
    let programs = wasm_programs(&events);
    assert!(
        !programs.is_empty(),
        "{name}: no program link rewritten for node"
    );
    let runs = wasm_program_runs(&events, &programs);
    assert!(
        !runs.is_empty(),
        "{name}: none of the wasm programs it linked ({programs:?}) was run"
    );
    eprintln!(
        "{name}: {} wasm program(s) linked for node, {} run(s): {:?}",
        programs.len(),
        runs.len(),
        runs.iter().map(|ev| &ev.argv).collect::<Vec<_>>()
    );
    if name == "autoconf-sizes" {
        assert!(
            runs.iter().any(|ev| ev.path.ends_with("/conftest")
                || ev.path == "./conftest"
                || ev.argv.first().is_some_and(|a| a == "./conftest")),
            "{name}: ./conftest never ran: {runs:#?}"
        );
    }
}

/// Builds each example under `via` (one scratch dir per example, in order)
/// and returns the wheels.
fn build_all(e: &E2e, scratch: &Path, examples: &[(&Example, Via)]) -> Vec<PathBuf> {
    examples
        .iter()
        .map(|(x, via)| {
            let out = scratch.join(x.dir);
            let built = build(e, &x.src(e, scratch), &out, *via)
                .unwrap_or_else(|err| panic!("{} ({via:?}): {err}", x.dir));
            let wheel = one_wasm_wheel(x.dir, built);
            assert_configure_events(x, &out);
            wheel
        })
        .collect()
}

/// In Pyodide: every module from its wasm `.so`, every answer 4.
fn assert_wasm32_in_pyodide(e: &E2e, wheels: &[PathBuf], examples: &[&Example]) {
    let out = pyodide(e, wheels, &probe_code(examples));
    eprintln!("in Pyodide: {:#}", out["result"]);
    assert_eq!(out["install_errors"], json!({}), "{out:#}");
    for x in examples {
        let m = x.module();
        let file = out["result"]["files"][&m].as_str().unwrap_or("<missing>");
        if x.dir == "cmake-sizes" {
            // Known gap (docs/e2e.md): in a cross build scikit-build-core's
            // FindPython leaves Python_SOABI empty (it asks only a
            // python-config, never the interpreter), so `python_add_library(…
            // WITH_SOABI)` names the module `_sizes.so`. Pyodide imports it;
            // when the generated toolchain sets Python_SOABI from the profile
            // this becomes `_sizes<ext_suffix>`: update this assertion.
            assert!(
                file.ends_with("/cmake_sizes/_sizes.so"),
                "{m}: expected cmake_sizes/_sizes.so, got {file:?}"
            );
        } else {
            support::assert_loaded_from_so(e, &out, &[&m]);
        }
        assert_values(&out, x, 4, WASM_MAGIC);
    }
}

#[test]
fn backends_built_with_pip_wheel_under_run_report_wasm32_sizes_in_pyodide() {
    let Some(e) = E2e::get() else { return };
    let scratch = e.scratch("backends-pip");
    let examples = [&MESON, &CMAKE, &AUTOCONF];
    let isolated = Via::Run { isolation: true };
    let wheels = build_all(&e, &scratch, &examples.map(|x| (x, isolated)));
    assert_wasm32_in_pyodide(&e, &wheels, &examples);

    // The second release: the same build (e2e_examples::
    // second_profile_makes_the_same_build_as_the_first covers examples/),
    // retagged, verified against that runtime and run there.
    let Some(second) = E2e::second() else { return };
    let wheels = support::retag_for(&second, &wheels, &scratch.join("second-release"));
    let (code, report) = support::verify(&second, &wheels);
    assert_eq!(support::verify_errors(&report), [], "{report:#}");
    assert_eq!(code, 0, "{report:#}");
    assert_wasm32_in_pyodide(&second, &wheels, &examples);
}

/// `python -m build` (pypa/build) needs `build` and, without isolation, the
/// backends in the build venv (scripts/setup.sh installs them).
fn assert_build_venv_has(e: &E2e, modules: &[&str]) {
    let code = format!("import {}", modules.join(", "));
    let ok = Command::new(&e.build_venv_python)
        .args(["-c", &code])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{} cannot `{code}`. Run scripts/setup.sh first (or set PYREWRITE_E2E=0 to skip \
         the end-to-end tests)",
        e.build_venv_python.display()
    );
}

#[test]
fn pypa_build_isolated_and_not_under_run_report_wasm32_sizes_in_pyodide() {
    let Some(e) = E2e::get() else { return };
    assert_build_venv_has(&e, &["build", "mesonpy", "scikit_build_core"]);
    let scratch = e.scratch("backends-pypa-build");
    let examples = [&MESON, &CMAKE];
    let wheels = build_all(
        &e,
        &scratch,
        &[
            (&MESON, Via::PypaBuild { isolation: true }),
            (&CMAKE, Via::PypaBuild { isolation: false }),
        ],
    );
    assert_wasm32_in_pyodide(&e, &wheels, &examples);
}

/// Runs `code` (which assigns `result`) in the host python3 with `wheels`
/// unpacked into `dir` on its path; returns `{"result": result}`.
fn native_python(wheels: &[PathBuf], dir: &Path, code: &str) -> Value {
    let site = dir.join("site");
    for w in wheels {
        let out = common::run(
            Command::new("python3")
                .args(["-m", "zipfile", "-e"])
                .arg(w)
                .arg(&site),
        );
        common::assert_ok(&out, "python3 -m zipfile -e");
    }
    let code = format!("{code}\nprint(json.dumps({{'result': result}}))\n");
    let out = common::run(
        Command::new("python3")
            .args(["-c", &code])
            .env("PYTHONPATH", &site)
            .env_remove("LD_PRELOAD")
            .current_dir(dir),
    );
    common::assert_ok(&out, "python3 (native probe)");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|err| {
        panic!(
            "native probe printed no JSON ({err}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// The control: the same examples built natively (no pyrewrite) report
/// x86_64's sizes, 8 and 8, from every check, so the 4s above come from the
/// wasm32 build and not from the examples.
#[test]
fn native_control_builds_report_x86_64_sizes() {
    let Some(e) = E2e::get() else { return };
    let scratch = e.scratch("backends-native");
    let examples = [&MESON, &CMAKE, &AUTOCONF];
    let mut wheels = Vec::new();
    for x in examples {
        let built = build(&e, &x.src(&e, &scratch), &scratch.join(x.dir), Via::Native)
            .unwrap_or_else(|err| panic!("{} (native): {err}", x.dir));
        assert_eq!(built.wheels.len(), 1, "{}: {:?}", x.dir, built.wheels);
        wheels.extend(built.wheels);
    }
    let out = native_python(&wheels, &scratch, &probe_code(&examples));
    eprintln!("native: {:#}", out["result"]);
    for x in examples {
        let m = x.module();
        let file = out["result"]["files"][&m].as_str().unwrap_or("<missing>");
        assert!(
            file.ends_with(".cpython-311-x86_64-linux-gnu.so"),
            "{m}: expected the native extension, got {file:?}"
        );
        assert_values(&out, x, 8, ELF_MAGIC);
    }
}
