//! Shared pieces of the end-to-end tests (`tests/e2e_*.rs`): where the
//! prerequisites are, building a package through pyrewrite, and running
//! Python inside a real Pyodide (tests/pyodide/run.mjs).
//!
//! Needs `mod common;` (tests/common) next to it in the test crate: the
//! artifact dir and the Pyodide dist are found there, in one place.
//!
//! Prerequisites come from `scripts/setup.sh`. When one is missing the tests
//! FAIL saying so (CI runs setup first); `PYREWRITE_E2E=0` skips them
//! explicitly, with a printed reason.

#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Everything an end-to-end test needs, all checked to exist.
pub struct E2e {
    pub root: PathBuf,
    pub pyrewrite: PathBuf,
    pub preload: PathBuf,
    pub target_json: PathBuf,
    pub pyodide: PathBuf,
    pub support_wheels: PathBuf,
    pub sdists: PathBuf,
    /// Python with the build requirements installed, for `--no-build-isolation`.
    pub build_venv_python: PathBuf,
    pub ext_suffix: String,
    /// The profile's `platform_tag` (`emscripten_3_1_32_wasm32` for 0.23.4).
    pub platform_tag: String,
    /// The Pyodide release this `E2e` targets (`0.23.4`, or [`SECOND_RELEASE`]).
    pub release: &'static str,
}

/// The second Pyodide release the suite runs against (issue 16): Python 3.11
/// like 0.23.4, Emscripten 3.1.46. `scripts/setup.sh` installs it into
/// `.cache/pyodide-npm-<ver>`, its micropip/packaging wheels into
/// `.cache/wheels-<ver>` and its profile as `.cache/target-<ver>.json`.
pub const SECOND_RELEASE: &str = "0.25.1";

impl E2e {
    /// `None` (after printing why) only when `PYREWRITE_E2E=0`.
    pub fn get() -> Option<E2e> {
        Self::get_release(None)
    }

    /// The same for [`SECOND_RELEASE`]: its profile, Pyodide and micropip.
    pub fn second() -> Option<E2e> {
        Self::get_release(Some(SECOND_RELEASE))
    }

    fn get_release(release: Option<&'static str>) -> Option<E2e> {
        if std::env::var("PYREWRITE_E2E").as_deref() == Ok("0") {
            eprintln!("SKIPPED: PYREWRITE_E2E=0 disables the end-to-end tests");
            return None;
        }
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let bin = crate::common::artifact_dir();
        let cache = root.join(".cache");
        let (target_json, pyodide, support_wheels) = match release {
            None => (
                cache.join("target.json"),
                crate::common::pyodide_dist(),
                cache.join("wheels"),
            ),
            Some(v) => (
                cache.join(format!("target-{v}.json")),
                cache.join(format!("pyodide-npm-{v}/node_modules/pyodide")),
                cache.join(format!("wheels-{v}")),
            ),
        };
        let release = release.unwrap_or("0.23.4");
        let pyodide_what = format!("Pyodide {release} (npm)");
        let e = E2e {
            pyrewrite: bin.join("pyrewrite"),
            preload: bin.join("libpyrewrite.so"),
            target_json,
            pyodide,
            support_wheels,
            sdists: cache.join("sdists"),
            build_venv_python: cache.join("build-venv/bin/python"),
            ext_suffix: String::new(),
            platform_tag: String::new(),
            release,
            root,
        };
        for (what, path) in [
            ("the pyrewrite binary (scripts/build.sh)", &e.pyrewrite),
            ("libpyrewrite.so (scripts/build.sh)", &e.preload),
            ("the target profile", &e.target_json),
            (pyodide_what.as_str(), &e.pyodide.join("pyodide.mjs")),
            ("the micropip/packaging wheels", &e.support_wheels),
            ("the pinned sdists", &e.sdists),
            ("the build venv", &e.build_venv_python),
        ] {
            assert!(
                path.exists(),
                "missing {what}: {} does not exist. Run scripts/setup.sh first \
                 (or set PYREWRITE_E2E=0 to skip the end-to-end tests)",
                path.display()
            );
        }
        let target: Value =
            serde_json::from_str(&std::fs::read_to_string(&e.target_json).unwrap()).unwrap();
        let ext_suffix = target["ext_suffix"].as_str().unwrap().to_owned();
        let platform_tag = target["platform_tag"].as_str().unwrap().to_owned();
        let lock = ["pyodide-lock.json", "repodata.json"]
            .iter()
            .find_map(|f| std::fs::read_to_string(e.pyodide.join(f)).ok())
            .unwrap();
        let lock: Value = serde_json::from_str(&lock).unwrap();
        assert_eq!(
            lock["info"]["version"],
            release,
            "{}: expected Pyodide {release}; run scripts/setup.sh",
            e.pyodide.display()
        );
        Some(E2e {
            ext_suffix,
            platform_tag,
            ..e
        })
    }

    /// A fresh scratch dir under target/e2e/ (kept after the test for
    /// inspection; replaced by the next run).
    pub fn scratch(&self, name: &str) -> PathBuf {
        let dir = self.pyrewrite.parent().unwrap().join("e2e").join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// The pinned sdist `NAME-VERSION.tar.gz` from .cache/sdists.
    pub fn sdist(&self, name_version: &str) -> PathBuf {
        let p = self.sdists.join(format!("{name_version}.tar.gz"));
        assert!(
            p.is_file(),
            "{}: missing; add it to SDISTS in scripts/setup.sh and run it",
            p.display()
        );
        p
    }
}

/// How a package is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// `pyrewrite run -- python -m pip wheel --no-deps -w OUT SRC`
    Run { isolation: bool },
    /// `pyrewrite run -- <build venv python> -m build --wheel [--no-isolation]
    /// --outdir OUT SRC` (pypa/build; the build venv has `build` and the
    /// backends, for `--no-isolation`).
    PypaBuild { isolation: bool },
    /// `LD_PRELOAD=libpyrewrite.so pip wheel ...` then `pyrewrite retag`.
    Preload,
    /// No pyrewrite at all: `python3 -m pip wheel --no-deps -w OUT SRC`, the
    /// native build a control compares with. Returns the native wheels.
    Native,
}

/// Copies an example dir to `scratch` (so no stale in-tree `build/` of a
/// native build is reused) and returns the copy.
pub fn copy_tree(src: &Path, scratch: &Path) -> PathBuf {
    std::fs::create_dir_all(scratch).unwrap();
    let dest = scratch.join(src.file_name().unwrap());
    let _ = std::fs::remove_dir_all(&dest);
    let status = Command::new("cp")
        .arg("-r")
        .arg(src)
        .arg(&dest)
        .status()
        .unwrap();
    assert!(status.success(), "cp -r {} failed", src.display());
    for junk in ["build", "dist"] {
        let _ = std::fs::remove_dir_all(dest.join(junk));
    }
    dest
}

/// What a build produced.
pub struct Built {
    /// The wasm32 (or pure) wheels.
    pub wheels: Vec<PathBuf>,
    /// `pyrewrite run` wrote the wheels but its import check against the
    /// Pyodide runtime found errors (exit 4); the findings, else `None`.
    pub verify_errors: Option<String>,
}

/// Exit status of `pyrewrite run` when the wheels were written but `verify`
/// found imports the runtime cannot satisfy.
const RUN_VERIFY_ERRORS: i32 = 4;

/// Builds `src` (an sdist or a source dir) into wasm wheels in `out`
/// (native ones with [`Via::Native`]). Returns the wasm (or pure) wheels, or
/// the tail of the build log. Under `pyrewrite run` the event log is
/// `out/.pyrewrite/events.jsonl` ([`run_events`]).
pub fn build(e: &E2e, src: &Path, out: &Path, via: Via) -> Result<Built, String> {
    std::fs::create_dir_all(out).unwrap();
    let log = out.join("build.log");
    let native_out = out.join("native");
    let python = match via {
        Via::Run { isolation: false } | Via::PypaBuild { .. } => e.build_venv_python.clone(),
        _ => PathBuf::from("python3"),
    };
    let wheel_dir: &Path = if via == Via::Preload {
        &native_out
    } else {
        out
    };
    let mut pip: Vec<std::ffi::OsString> = vec![python.into_os_string(), "-m".into()];
    if let Via::PypaBuild { isolation } = via {
        pip.extend(["build".into(), "--wheel".into()]);
        if !isolation {
            pip.push("--no-isolation".into());
        }
        pip.extend(["--outdir".into(), wheel_dir.as_os_str().to_owned()]);
    } else {
        pip.extend([
            "pip".into(),
            "wheel".into(),
            "--no-deps".into(),
            "--no-cache-dir".into(),
        ]);
        if via == (Via::Run { isolation: false }) {
            pip.push("--no-build-isolation".into());
        }
        pip.extend(["-w".into(), wheel_dir.as_os_str().to_owned()]);
    }
    pip.push(src.as_os_str().to_owned());

    let under_run = matches!(via, Via::Run { .. } | Via::PypaBuild { .. });
    let mut cmd = match via {
        Via::Run { .. } | Via::PypaBuild { .. } => {
            let mut c = Command::new(&e.pyrewrite);
            c.arg("run")
                .arg("--target")
                .arg(&e.target_json)
                .arg("--")
                .args(&pip);
            c
        }
        Via::Preload => {
            let mut c = Command::new(&pip[0]);
            c.args(&pip[1..])
                .env("LD_PRELOAD", &e.preload)
                .env("PYREWRITE_PRELOAD", &e.preload)
                .env("PYREWRITE_EVENTS", out.join("events.jsonl"));
            c
        }
        Via::Native => {
            let mut c = Command::new(&pip[0]);
            c.args(&pip[1..])
                .env_remove("LD_PRELOAD")
                .env_remove("PYREWRITE_PRELOAD")
                .env_remove("PYREWRITE_EVENTS")
                .env_remove("PYREWRITE_SOCKET");
            c
        }
    };
    if via == Via::Native {
        cmd.env_remove("PYREWRITE_TARGET");
    } else {
        // Every wasm build of the suite proves the compile fast path: emcc
        // writes each object, emcc's clang from the learned template writes
        // a second, and any difference fails the build (docs/fast-path.md).
        cmd.env("PYREWRITE_TARGET", &e.target_json)
            .env(pyrewrite_protocol::env::FAST_PATH, "verify");
    }
    cmd.current_dir(out)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(out.join("build.stderr.log")).unwrap());
    let status = cmd.status().map_err(|err| format!("cannot start: {err}"))?;
    let tail = || {
        let mut text = std::fs::read_to_string(&log).unwrap_or_default();
        text += &std::fs::read_to_string(out.join("build.stderr.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    };
    let verify_failed = under_run && status.code() == Some(RUN_VERIFY_ERRORS);
    if !status.success() && !verify_failed {
        return Err(format!(
            "build of {} failed ({status}):\n{}",
            src.display(),
            tail()
        ));
    }
    if via == Via::Preload {
        // No driver to fail the build: read pyrewrite-cc's log ourselves.
        let mut log = out.join("events.jsonl").into_os_string();
        log.push(pyrewrite_protocol::socket::FAST_PATH_SUFFIX);
        let fast = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(line) = fast.lines().find(|l| l.starts_with("differs")) {
            return Err(format!(
                "the fast path's object differs from emcc's: {line}"
            ));
        }
        // Without a driver, pyrewrite-cc logs next to PYREWRITE_EVENTS: the
        // build compiled, so something must be there.
        if !fast
            .lines()
            .any(|l| l.starts_with("learned") || l.starts_with("verified"))
        {
            return Err(format!(
                "no compile went through the fast path ({}): {fast:?}",
                Path::new(&log).display()
            ));
        }
        let natives = wheels_in(&native_out);
        let retag = retag_command(e, out)
            .arg("--events")
            .arg(out.join("events.jsonl"))
            .args(&natives)
            .output()
            .unwrap();
        if !retag.status.success() {
            return Err(format!(
                "pyrewrite retag failed: {}",
                String::from_utf8_lossy(&retag.stderr)
            ));
        }
    }
    let wheels: Vec<PathBuf> = wheels_in(out)
        .into_iter()
        .filter(|w| {
            let n = w.file_name().unwrap().to_string_lossy();
            let platform = if via == Via::Native {
                n.ends_with("_x86_64.whl")
            } else {
                n.ends_with("_wasm32.whl")
            };
            platform || n.ends_with("-none-any.whl")
        })
        .collect();
    if wheels.is_empty() {
        return Err(format!(
            "no {} or pure wheel in {}: {:?}\n{}",
            if via == Via::Native {
                "x86_64"
            } else {
                "wasm32"
            },
            out.display(),
            wheels_in(out),
            tail()
        ));
    }
    let verify_errors = verify_failed.then(|| {
        let text = std::fs::read_to_string(out.join("build.stderr.log")).unwrap_or_default();
        text.lines()
            .filter(|l| l.trim_start().starts_with("error:"))
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(Built {
        wheels,
        verify_errors,
    })
}

/// The event log `pyrewrite run` wrote for a [`build`] into `out`.
pub fn run_events(out: &Path) -> Vec<pyrewrite_protocol::Event> {
    let log = out.join(".pyrewrite/events.jsonl");
    assert!(log.is_file(), "{}: no event log", log.display());
    crate::common::read_events(&log)
}

fn wheels_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "whl"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Installs `wheels` into a fresh Pyodide (node + micropip, offline) and runs
/// `code`, which must assign a JSON-serialisable `result`. Returns the
/// loader's JSON (`ok`, `installed`, `install_errors`, `result` or `error`).
pub fn pyodide(e: &E2e, wheels: &[PathBuf], code: &str) -> Value {
    let out = Command::new("node")
        .arg(e.root.join("tests/pyodide/run.mjs"))
        .arg("--pyodide")
        .arg(&e.pyodide)
        .arg("--support")
        .arg(&e.support_wheels)
        .arg("--keep-going")
        .arg("--code")
        .arg(code)
        .args(wheels)
        .output()
        .expect("node not found: run scripts/setup.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let json: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|err| {
        panic!("loader printed no JSON ({err}); stdout:\n{stdout}\nstderr:\n{stderr}")
    });
    assert_eq!(
        json["ok"],
        Value::Bool(true),
        "Pyodide run failed: {json:#}\nstderr:\n{stderr}"
    );
    json
}

/// Python that imports each named extension module and records its
/// `__file__` (or the error), plus the values of `probes` (name -> expr).
/// Every probe runs even if another fails; `raises(f, *args)` gives the name
/// of the exception a call raises.
pub fn probe_code(modules: &[&str], probes: &[(&str, &str)]) -> String {
    let mut code = String::from(
        "import json, sys\nresult = {'files': {}, 'values': {}}\n\
         def raises(f, *a):\n    try:\n        f(*a)\n        return 'no exception'\n    \
         except Exception as e:\n        return type(e).__name__\n",
    );
    for m in modules {
        code += &format!(
            "try:\n    import {m}\n    result['files'][{m:?}] = sys.modules[{m:?}].__file__\nexcept BaseException as e:\n    result['files'][{m:?}] = 'ERROR ' + type(e).__name__ + ': ' + str(e)\n"
        );
    }
    for (name, expr) in probes {
        code += &format!(
            "try:\n    result['values'][{name:?}] = json.loads(json.dumps({expr}))\nexcept BaseException as e:\n    result['values'][{name:?}] = 'ERROR ' + type(e).__name__ + ': ' + str(e)\n"
        );
    }
    code
}

/// Asserts every module in `result.files` came from a `.so` with the target
/// suffix: a silent fallback to pure Python shows up here as a `.py` file.
pub fn assert_loaded_from_so(e: &E2e, json: &Value, modules: &[&str]) {
    for m in modules {
        let file = json["result"]["files"][m].as_str().unwrap_or("<missing>");
        assert!(
            file.ends_with(&e.ext_suffix),
            "{m}: expected to be imported from a {} side module, got {file:?}",
            e.ext_suffix
        );
    }
}

/// Builds each pinned sdist `names` (from .cache/sdists) into `scratch/<name>`
/// with `via`; every build must succeed, pass `pyrewrite run`'s import check
/// against Pyodide and give only wasm32 wheels. Returns all the wheels.
pub fn build_sdists(e: &E2e, names: &[&str], scratch: &Path, via: Via) -> Vec<PathBuf> {
    let mut wheels = Vec::new();
    let mut failures = Vec::new();
    for name in names {
        let started = std::time::Instant::now();
        match build(e, &e.sdist(name), &scratch.join(name), via) {
            Ok(Built {
                wheels: built,
                verify_errors,
            }) => {
                eprintln!("built {name} in {:.0?}: {built:?}", started.elapsed());
                assert_eq!(verify_errors, None, "{name}: pyrewrite verify found errors");
                let tag = format!("-{}.whl", e.platform_tag);
                let all_wasm = built.iter().all(|w| w.to_string_lossy().ends_with(&tag));
                assert!(
                    all_wasm && !built.is_empty(),
                    "{name}: expected only wasm32 wheels, got {built:?}"
                );
                wheels.extend(built);
            }
            Err(err) => failures.push(format!("{name}: {err}")),
        }
    }
    assert!(
        failures.is_empty(),
        "builds failed:\n{}",
        failures.join("\n\n")
    );
    wheels
}

/// `pyrewrite retag --target <e's profile> --out OUT`, the wheels to add.
fn retag_command(e: &E2e, out: &Path) -> Command {
    let mut c = Command::new(&e.pyrewrite);
    c.arg("retag")
        .arg("--target")
        .arg(&e.target_json)
        .arg("--out")
        .arg(out);
    c
}

/// The wheels of a build for another release, without building again:
/// `pyrewrite retag --target <e's profile>` (the platform tag only; the
/// `.so` are kept). Valid when the two profiles make the same build, which
/// `e2e_examples::second_profile_makes_the_same_build_as_the_first` asserts.
pub fn retag_for(e: &E2e, wheels: &[PathBuf], out: &Path) -> Vec<PathBuf> {
    std::fs::create_dir_all(out).unwrap();
    let pure: Vec<PathBuf> = wheels
        .iter()
        .filter(|w| w.to_string_lossy().ends_with("-none-any.whl"))
        .cloned()
        .collect();
    let wasm: Vec<&PathBuf> = wheels.iter().filter(|w| !pure.contains(w)).collect();
    let retag = retag_command(e, out).args(&wasm).output().unwrap();
    assert!(
        retag.status.success(),
        "pyrewrite retag for Pyodide {} failed: {}",
        e.release,
        String::from_utf8_lossy(&retag.stderr)
    );
    let tag = format!("-{}.whl", e.platform_tag);
    let out_wheels: Vec<PathBuf> = wheels_in(out)
        .into_iter()
        .filter(|w| w.to_string_lossy().ends_with(&tag))
        .collect();
    assert_eq!(out_wheels.len(), wasm.len(), "retag wrote {out_wheels:?}");
    [out_wheels, pure].concat()
}

/// `pyrewrite verify --against <e's profile> --json WHEELS`: (exit code,
/// report), as `pyrewrite run` would have checked them for this release.
pub fn verify(e: &E2e, wheels: &[PathBuf]) -> (i32, Value) {
    let out = Command::new(&e.pyrewrite)
        .arg("verify")
        .arg("--against")
        .arg(&e.target_json)
        .arg("--json")
        .args(wheels)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|err| {
        panic!(
            "verify printed no JSON ({err}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(report["runtime"]["pyodide_version"], e.release);
    (out.status.code().unwrap(), report)
}

/// `(wheel file name, symbol)` of every error finding of a verify report.
pub fn verify_errors(report: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for w in report["wheels"].as_array().unwrap() {
        let name = Path::new(w["path"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for ext in w["extensions"].as_array().unwrap() {
            for f in ext["findings"].as_array().unwrap() {
                if f["severity"] == "error" {
                    out.push((name.clone(), f["symbol"].as_str().unwrap().to_owned()));
                }
            }
        }
    }
    out
}

/// The setuptools sdists of `e2e_sdists` (also reused by `e2e_examples`'s
/// second-release check). Keep in sync with SDISTS in scripts/setup.sh.
pub const SETUPTOOLS_SDISTS: &[&str] = &[
    "markupsafe-3.0.4",
    "msgpack-1.2.4",
    "simplejson-4.3.0",
    "bitarray-3.12.3",
    "mmh3-5.3.1",
    "wrapt-2.5.2",
    // Its setup.py picks x86-only sources when `sysconfig.get_platform()`
    // says x86: built only because the backend gets _PYTHON_HOST_PLATFORM.
    "xxhash-4.1.0",
];

/// The meson-python / scikit-build-core sdists of `e2e_backend_sdists` (and
/// regex, beancount's dependency). Keep in sync with BACKEND_SDISTS in
/// scripts/setup.sh.
pub const BACKEND_SDISTS: &[&str] = &[
    "deflate-0.9.0",
    "scoring_matrices-0.3.5",
    "pyjess-0.10.1",
    "beancount-3.2.3",
    "regex-2026.11.19",
    "nanoarrow-0.9.0",
];
