//! `pyrewrite verify` against the real Pyodide 0.23.4, on side modules built by
//! the real emcc (/usr/bin/emcc, Debian's 3.1.6). Every verdict is compared with
//! what actually happens when the module is loaded into that Pyodide
//! (tests/pyodide/load_so.mjs: node + ctypes.CDLL, then a call).
//!
//! Needs: emcc, node, and Pyodide at <repo>/.cache/pyodide-npm/node_modules/pyodide
//! (scripts/setup.sh installs it) or in $PYREWRITE_PYODIDE_DIR.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// One C source per behaviour; `link_bigint: false` drops -sWASM_BIGINT.
struct Case {
    name: &'static str,
    source: &'static str,
    link_bigint: bool,
    /// C++ (em++ -fexceptions) instead of C.
    cxx: bool,
    /// Another case's module to link against, as `lib<name>.so` (recorded in
    /// dylink.0 as needed).
    link_with: Option<&'static str>,
    /// Function to call after loading, with int arguments.
    call: (&'static str, &'static [i64]),
}

const CASES: &[Case] = &[
    Case {
        name: "clean",
        source: "#include <string.h>\n\
                 int pyr_add(int a, int b) { return a + b; }\n\
                 int pyr_len(const char *s) { return (int)strlen(s); }\n",
        link_bigint: true,
        cxx: false,
        link_with: None,
        call: ("pyr_add", &[2, 3]),
    },
    Case {
        name: "usetime",
        source: "#include <time.h>\nlong pyr_now(void) { return (long)time(0); }\n",
        link_bigint: true,
        cxx: false,
        link_with: None,
        call: ("pyr_now", &[]),
    },
    Case {
        name: "useclock",
        source: "#include <time.h>\n\
                 long pyr_mono(void) { struct timespec ts; \
                 clock_gettime(CLOCK_MONOTONIC, &ts); return (long)ts.tv_sec; }\n",
        link_bigint: true,
        cxx: false,
        link_with: None,
        call: ("pyr_mono", &[]),
    },
    Case {
        // off_t is 64-bit on wasm32: without WASM_BIGINT the `lseek` import is
        // legalized to (i32, i32, i32, i32) -> i32.
        name: "nobigint",
        source: "#include <unistd.h>\n\
                 long long pyr_seek(int fd, long long off) { return lseek(fd, off, SEEK_SET); }\n",
        link_bigint: false,
        cxx: false,
        link_with: None,
        call: ("pyr_seek", &[0, 0]),
    },
    Case {
        name: "missing",
        source: "int pyr_nobody_exports_this(int);\n\
                 int pyr_call_missing(int x) { return pyr_nobody_exports_this(x) + 1; }\n",
        link_bigint: true,
        cxx: false,
        link_with: None,
        call: ("pyr_call_missing", &[1]),
    },
    Case {
        name: "provider",
        source: "int pyr_nobody_exports_this(int x) { return 41 + x; }\n",
        link_bigint: true,
        cxx: false,
        link_with: None,
        call: ("pyr_nobody_exports_this", &[1]),
    },
    Case {
        // libpng is not part of Pyodide 0.23.4's main module (zlib, bzip2 and
        // libffi are: they are checked as provided).
        name: "needspng",
        source: "const char *png_get_libpng_ver(void *png);\n\
                 int pyr_png(void) { return png_get_libpng_ver(0)[0]; }\n",
        link_bigint: true,
        cxx: false,
        link_with: None,
        call: ("pyr_png", &[]),
    },
    Case {
        // A JS-provided function taking an i64 (WASI clock_time_get's precision),
        // called from a module linked without WASM_BIGINT: JS functions are not
        // type-checked, so it loads; the split i64 shifts `&t` into the wrong slot
        // and the time is never stored.
        name: "wasinobigint",
        source: "#include <wasi/api.h>\n\
                 int pyr_wasi_secs(void) { __wasi_timestamp_t t = 0; \
                 (void)__wasi_clock_time_get(0, 1000, &t); return (int)(t / 1000000000); }\n",
        link_bigint: false,
        cxx: false,
        link_with: None,
        call: ("pyr_wasi_secs", &[]),
    },
    Case {
        name: "wasibigint",
        source: "#include <wasi/api.h>\n\
                 int pyr_wasi_secs(void) { __wasi_timestamp_t t = 0; \
                 (void)__wasi_clock_time_get(0, 1000, &t); return (int)(t / 1000000000); }\n",
        link_bigint: true,
        cxx: false,
        link_with: None,
        call: ("pyr_wasi_secs", &[]),
    },
    Case {
        // A data symbol nobody exports: a GOT.mem import.
        name: "missingdata",
        source: "extern int pyr_missing_data;\n\
                 int pyr_read_data(void) { return pyr_missing_data; }\n",
        link_bigint: true,
        cxx: false,
        link_with: None,
        call: ("pyr_read_data", &[]),
    },
    Case {
        // A weak function nobody exports, checked before the call: GOT.func and
        // env imports, marked weak in dylink.0.
        name: "weakfn",
        source: "extern int pyr_weak_fn(int) __attribute__((weak));\n\
                 int pyr_call_weak(int x) { return pyr_weak_fn ? pyr_weak_fn(x) : -1; }\n",
        link_bigint: true,
        cxx: false,
        link_with: None,
        call: ("pyr_call_weak", &[1]),
    },
    Case {
        name: "needsdep",
        source: "int pyr_nobody_exports_this(int);\n\
                 int pyr_call_dep(int x) { return pyr_nobody_exports_this(x) + 1; }\n",
        link_bigint: true,
        cxx: false,
        link_with: Some("provider"),
        call: ("pyr_call_dep", &[1]),
    },
    Case {
        // C++ catch clauses of five types: emcc 3.1.6 imports
        // `__cxa_find_matching_catch_7` and `invoke_*` trampolines, which no
        // runtime exports; each release's loader makes them on demand (0.23.4
        // maps the name to `__cxa_find_matching_catch`, 0.25.1 generates it),
        // so verify must not report them, and the throw/catch must work.
        name: "catches",
        source: "struct A {}; struct B {}; struct C {}; struct D {}; struct E {};\n\
                 __attribute__((noinline)) static void pyr_throw(int k) {\n\
                 if (k == 1) throw A(); if (k == 2) throw B(); if (k == 3) throw C();\n\
                 if (k == 4) throw D(); if (k == 5) throw E(); }\n\
                 extern \"C\" int pyr_catch(int k) {\n\
                 try { pyr_throw(k); return 0; }\n\
                 catch (const A &) { return 10; } catch (const B &) { return 20; }\n\
                 catch (const C &) { return 30; } catch (const D &) { return 40; }\n\
                 catch (const E &) { return 50; } }\n",
        link_bigint: true,
        cxx: true,
        link_with: None,
        call: ("pyr_catch", &[3]),
    },
];

struct Fixtures {
    dir: PathBuf,
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Build every case with the real emcc once per test binary.
fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        let dir = exe
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .join("verify-fixtures");
        std::fs::create_dir_all(&dir).unwrap();
        for case in CASES {
            let ext = if case.cxx { "cpp" } else { "c" };
            let c = dir.join(format!("{}.{ext}", case.name));
            let o = dir.join(format!("{}.o", case.name));
            let so = dir.join(format!("{}.so", case.name));
            // Rebuild only when the source or flags changed (emcc is slow to start).
            let key = format!(
                "{}/* bigint={} with={:?} */",
                case.source, case.link_bigint, case.link_with
            );
            if so.is_file() && std::fs::read_to_string(&c).ok().as_deref() == Some(key.as_str()) {
                continue;
            }
            let _ = std::fs::remove_file(&so);
            std::fs::write(&c, &key).unwrap();
            let (compiler, eh): (&str, &[&str]) = if case.cxx {
                ("/usr/bin/em++", &["-fexceptions"])
            } else {
                ("/usr/bin/emcc", &[])
            };
            run(Command::new(compiler)
                .args(["-fPIC", "-O2", "-c"])
                .args(eh)
                .arg(&c)
                .arg("-o")
                .arg(&o));
            let mut link = Command::new(compiler);
            link.args(["-shared", "-sSIDE_MODULE=1"]).args(eh);
            if case.link_bigint {
                link.arg("-sWASM_BIGINT");
            }
            if let Some(dep) = case.link_with {
                let lib = dir.join(format!("lib{dep}.so"));
                std::fs::copy(dir.join(format!("{dep}.so")), &lib).unwrap();
                link.arg(&lib);
            }
            run(link.arg(&o).arg("-o").arg(&so));
        }
        Fixtures { dir }
    })
}

fn so_path(name: &str) -> PathBuf {
    fixtures().dir.join(format!("{name}.so"))
}

/// Pack `.so` files into a minimal wheel (members under `pkg/`), with Python's
/// zipfile: the wheel format is a zip with a dist-info.
fn wheel(name: &str, members: &[&str]) -> PathBuf {
    let whl = fixtures().dir.join(format!(
        "{name}-1.0-cp311-cp311-emscripten_3_1_32_wasm32.whl"
    ));
    let files: Vec<String> = members
        .iter()
        .map(|m| so_path(m).display().to_string())
        .collect();
    let script = r#"
import sys, zipfile, os
whl, name, files = sys.argv[1], sys.argv[2], sys.argv[3:]
tmp = f"{whl}.{os.getpid()}.tmp"
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
    for f in files:
        base = os.path.basename(f)
        # Extensions get the EXT_SUFFIX; plain libraries keep their name.
        if not base.startswith("lib"):
            base = base[:-3] + ".cpython-311-wasm32-emscripten.so"
        z.write(f, f"pkg/{base}")
    di = f"{name}-1.0.dist-info"
    z.writestr(f"{di}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    z.writestr(f"{di}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-emscripten_3_1_32_wasm32\n")
    z.writestr(f"{di}/RECORD", "")
os.replace(tmp, whl)
"#;
    run(Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&whl)
        .arg(name)
        .args(&files));
    whl
}

/// The second Pyodide release (0.25.1, Emscripten 3.1.46), installed by
/// scripts/setup.sh next to 0.23.4.
fn second_dist() -> PathBuf {
    let dir = Path::new(REPO).join(".cache/pyodide-npm-0.25.1/node_modules/pyodide");
    assert!(
        dir.join("pyodide.asm.wasm").is_file(),
        "Pyodide 0.25.1 not found at {}: run scripts/setup.sh (it installs npm pyodide@0.25.1 there)",
        dir.display()
    );
    dir
}

/// Every release each verdict is checked against, with its dist dir: their
/// loaders differ (what they create on demand, what an unresolved call throws).
fn releases() -> [(&'static str, PathBuf); 2] {
    [
        ("0.23.4", common::pyodide_dist()),
        ("0.25.1", second_dist()),
    ]
}

/// `pyrewrite verify ... --json` against 0.23.4: (exit code, report).
fn verify(args: &[&Path], extra: &[&str]) -> (i32, Value) {
    verify_against(&common::pyodide_dist(), args, extra)
}

fn verify_against(dist: &Path, args: &[&Path], extra: &[&str]) -> (i32, Value) {
    let out = common::driver()
        .arg("verify")
        .args(args)
        .arg("--against")
        .arg(dist)
        .args(extra)
        .arg("--json")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "verify printed no JSON ({e}):\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), report)
}

fn findings(report: &Value) -> Vec<Value> {
    report["wheels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|w| w["extensions"].as_array().unwrap().clone())
        .flat_map(|e| e["findings"].as_array().unwrap().clone())
        .collect()
}

/// What loading the module into a Pyodide and calling `call` did.
struct Loaded {
    loaded: bool,
    load_error: String,
    called: Option<bool>,
    call_result: Value,
    call_error: String,
}

fn load_in_pyodide(dist: &Path, case: &Case) -> Loaded {
    let script = Path::new(REPO).join("tests/pyodide/load_so.mjs");
    let out = Command::new("node")
        .arg(script)
        .arg(dist)
        .arg(so_path(case.name))
        .arg(case.call.0)
        .args(case.call.1.iter().map(|a| a.to_string()))
        .output()
        .expect("node must be installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| {
            panic!(
                "load_so.mjs printed no result:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let v: Value = serde_json::from_str(line).unwrap();
    Loaded {
        loaded: v["loaded"].as_bool().unwrap(),
        load_error: v["load_error"].as_str().unwrap_or("").to_string(),
        called: v["called"].as_bool(),
        call_result: v["call_result"].clone(),
        call_error: v["call_error"].as_str().unwrap_or("").to_string(),
    }
}

fn case(name: &str) -> &'static Case {
    CASES.iter().find(|c| c.name == name).unwrap()
}

/// The verdict, reduced to what it predicts for loading: a signature mismatch
/// (or missing data) means "fails at load"; a missing function means "loads,
/// the call fails"; anything else means "loads and works".
fn predicted(report: &Value) -> &'static str {
    let f = findings(report);
    let has = |kind: &str| {
        f.iter()
            .any(|x| x["severity"] == "error" && x["kind"] == kind)
    };
    if has("signature-mismatch")
        || has("missing-data")
        || has("missing-needed")
        || has("not-side-module")
    {
        "load-fails"
    } else if has("missing-symbol") {
        "call-fails"
    } else {
        "works"
    }
}

fn observed(l: &Loaded) -> &'static str {
    match (l.loaded, l.called) {
        (false, _) => "load-fails",
        (true, Some(false)) => "call-fails",
        _ => "works",
    }
}

/// One release's verdict on a module and what that release did with it.
struct Verdict {
    release: &'static str,
    code: i32,
    report: Value,
    loaded: Loaded,
}

/// Verdict for a one-extension wheel, checked against the real load, in
/// every release of [`releases`].
fn verdict_agrees(name: &str) -> Vec<Verdict> {
    let whl = wheel(name, &[name]);
    releases()
        .into_iter()
        .map(|(release, dist)| {
            let (code, report) = verify_against(&dist, &[&whl], &[]);
            assert_eq!(report["runtime"]["pyodide_version"], release);
            let loaded = load_in_pyodide(&dist, case(name));
            assert_eq!(
                predicted(&report),
                observed(&loaded),
                "verify's verdict for {name} disagrees with Pyodide {release}: report {report:#}\n\
                 load error: {}\ncall error: {}",
                loaded.load_error,
                loaded.call_error
            );
            Verdict {
                release,
                code,
                report,
                loaded,
            }
        })
        .collect()
}

#[test]
fn clean_module_has_no_findings_and_works() {
    for Verdict {
        release,
        code,
        report,
        loaded,
    } in verdict_agrees("clean")
    {
        assert_eq!(findings(&report), Vec::<Value>::new(), "{release}");
        assert_eq!(code, 0);
        assert_eq!(report["schema"], "pyrewrite-verify/1");
        let emscripten = if release == "0.23.4" {
            "3.1.32"
        } else {
            "3.1.46"
        };
        assert_eq!(report["runtime"]["emscripten"], emscripten);
        assert_eq!(report["runtime"]["time_t_bits"], 64);
        assert_eq!(loaded.call_result, 5);
    }
}

#[test]
fn time_import_is_flagged_as_time_t_width_and_fails_to_load() {
    for Verdict {
        release,
        code,
        report,
        loaded,
    } in verdict_agrees("usetime")
    {
        let f = findings(&report);
        assert_eq!(f.len(), 1, "{release}: {f:#?}");
        assert_eq!(f[0]["severity"], "error");
        assert_eq!(f[0]["kind"], "signature-mismatch");
        assert_eq!(f[0]["cause"], "time-t-width");
        assert_eq!(f[0]["symbol"], "time");
        assert_eq!(f[0]["imported"], "(i32) -> i32");
        assert_eq!(f[0]["provided"], "(i32) -> i64");
        assert_eq!(code, 1);
        assert!(
            loaded.load_error.contains("LinkError") && loaded.load_error.contains("\"time\""),
            "{}",
            loaded.load_error
        );
    }
}

#[test]
fn clock_gettime_is_a_layout_warning_and_loads() {
    for Verdict {
        release,
        code,
        report,
        loaded,
    } in verdict_agrees("useclock")
    {
        let f = findings(&report);
        assert_eq!(f.len(), 1, "{release}: {f:#?}");
        assert_eq!(f[0]["severity"], "warning");
        assert_eq!(f[0]["kind"], "abi-layout");
        assert_eq!(f[0]["cause"], "time-t-width");
        assert_eq!(f[0]["symbol"], "clock_gettime");
        assert_eq!(code, 0, "warnings alone do not fail");
        assert!(loaded.loaded);
    }
    let whl = wheel("useclock", &["useclock"]);
    assert_eq!(
        verify(&[&whl], &["--strict"]).0,
        1,
        "--strict makes warnings fatal"
    );
}

#[test]
fn missing_wasm_bigint_is_flagged_and_fails_to_load() {
    for Verdict {
        release,
        code,
        report,
        loaded,
    } in verdict_agrees("nobigint")
    {
        let f = findings(&report);
        let lseek: Vec<&Value> = f.iter().filter(|x| x["symbol"] == "lseek").collect();
        assert_eq!(lseek.len(), 1, "{release}: {f:#?}");
        assert_eq!(lseek[0]["kind"], "signature-mismatch");
        assert_eq!(lseek[0]["cause"], "missing-wasm-bigint");
        assert_eq!(lseek[0]["imported"], "(i32, i32, i32, i32) -> i32");
        assert_eq!(lseek[0]["provided"], "(i32, i64, i32) -> i64");
        assert_eq!(code, 1);
        assert!(
            loaded.load_error.contains("\"lseek\""),
            "{}",
            loaded.load_error
        );
    }
}

#[test]
fn function_nobody_exports_is_flagged_loads_and_fails_when_called() {
    for Verdict {
        release,
        code,
        report,
        loaded,
    } in verdict_agrees("missing")
    {
        let f = findings(&report);
        assert_eq!(f.len(), 1, "{release}: {f:#?}");
        assert_eq!(f[0]["severity"], "error");
        assert_eq!(f[0]["kind"], "missing-symbol");
        assert_eq!(f[0]["cause"], "not-provided");
        assert_eq!(f[0]["symbol"], "pyr_nobody_exports_this");
        assert_eq!(code, 1);
        assert!(loaded.loaded && loaded.called == Some(false));
        // The message predicts what the first call throws in this release
        // (read from its loader: 0.23.4's stub calls `apply` on undefined,
        // 0.25.1's names the symbol).
        let message = f[0]["message"].as_str().unwrap();
        let predicted = if release == "0.23.4" {
            "Cannot read properties of undefined (reading 'apply')"
        } else {
            "Dynamic linking error: cannot resolve symbol pyr_nobody_exports_this"
        };
        assert!(message.contains(predicted), "{release}: {message}");
        assert!(
            loaded.call_error.contains(predicted),
            "{release}: the call threw {:?}",
            loaded.call_error
        );
    }
}

#[test]
fn missing_library_is_named_loads_and_fails_when_called() {
    for Verdict {
        release,
        code,
        report,
        loaded,
    } in verdict_agrees("needspng")
    {
        let f = findings(&report);
        assert_eq!(f.len(), 1, "{release}: {f:#?}");
        assert_eq!(f[0]["cause"], "missing-library");
        assert_eq!(f[0]["library"], "libpng");
        assert_eq!(f[0]["symbol"], "png_get_libpng_ver");
        assert_eq!(code, 1);
        assert!(loaded.loaded && loaded.called == Some(false), "{release}");
    }
}

#[test]
fn symbols_from_the_same_wheel_or_with_wheels_count_as_provided() {
    let both = wheel("both", &["missing", "provider"]);
    let (code, report) = verify(&[&both], &[]);
    assert_eq!(findings(&report), Vec::<Value>::new(), "{report:#}");
    assert_eq!(code, 0);
    assert_eq!(
        report["wheels"][0]["extensions"].as_array().unwrap().len(),
        2
    );

    let app = wheel("app", &["missing"]);
    let dep = wheel("dep", &["provider"]);
    let dep_arg = dep.display().to_string();
    let (code, report) = verify(&[&app], &["--with", &dep_arg]);
    assert_eq!(findings(&report), Vec::<Value>::new(), "{report:#}");
    assert_eq!(code, 0);
}

#[test]
fn target_profile_naming_the_runtime_works_like_the_dir() {
    let profile = fixtures().dir.join("target-with-pyodide.json");
    let json = serde_json::json!({ "pyodide_dir": common::pyodide_dist() });
    std::fs::write(&profile, json.to_string()).unwrap();
    let whl = wheel("usetime", &["usetime"]);
    let out = common::driver()
        .arg("verify")
        .arg(&whl)
        .arg("--against")
        .arg(&profile)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings(&report)[0]["cause"], "time-t-width");

    // A profile without pyodide_dir cannot be verified against: usage error.
    let bare = fixtures().dir.join("target-bare.json");
    std::fs::write(&bare, "{}").unwrap();
    let out = common::driver()
        .arg("verify")
        .arg(&whl)
        .arg("--against")
        .arg(&bare)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pyodide_dir"));
}

#[test]
fn module_emscripten_flag_drives_layout_warnings() {
    // Told the module was built by the runtime's own Emscripten, the clock_gettime
    // layout agrees: no warning. Told 3.1.6, it warns.
    let whl = wheel("useclock", &["useclock"]);
    let (_, report) = verify(&[&whl], &["--module-emscripten", "3.1.32"]);
    assert_eq!(findings(&report), Vec::<Value>::new());
    let (_, report) = verify(&[&whl], &["--module-emscripten", "3.1.6"]);
    assert_eq!(findings(&report)[0]["kind"], "abi-layout");
    assert_eq!(
        report["wheels"][0]["extensions"][0]["emscripten_source"],
        "--module-emscripten"
    );
}

#[test]
fn native_and_bad_inputs() {
    // A native ELF .so in a wheel is an error finding, not a crash.
    let native = fixtures().dir.join("native.so");
    std::fs::copy(std::env::current_exe().unwrap(), &native).unwrap();
    let (code, report) = verify(&[&native], &[]);
    assert_eq!(code, 1);
    assert_eq!(findings(&report)[0]["kind"], "not-side-module");

    // A missing wheel or runtime is a usage/IO error: exit 2 with the path named.
    let out = common::driver()
        .args(["verify", "/nonexistent/x.whl", "--against"])
        .arg(common::pyodide_dist())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/x.whl"));
    let out = common::driver()
        .arg("verify")
        .arg(so_path("clean"))
        .args(["--against", "/nonexistent-runtime"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn human_report_explains_and_suggests() {
    let whl = wheel("usetime", &["usetime"]);
    let out = common::driver()
        .arg("verify")
        .arg(&whl)
        .arg("--against")
        .arg(common::pyodide_dist())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text.contains("pkg/usetime.cpython-311-wasm32-emscripten.so"),
        "{text}"
    );
    assert!(
        text.contains("error: `time` is imported as (i32) -> i32"),
        "{text}"
    );
    assert!(text.contains("next step:"), "{text}");
    assert!(text.contains("1 error(s), 0 warning(s)"), "{text}");
}

#[test]
fn needed_library_must_be_somewhere() {
    // Loaded alone, a module whose dylink.0 needs libprovider.so fails to load.
    for Verdict {
        release,
        code,
        report,
        ..
    } in verdict_agrees("needsdep")
    {
        let f = findings(&report);
        let kinds: Vec<(&str, &str)> = f
            .iter()
            .map(|x| (x["kind"].as_str().unwrap(), x["symbol"].as_str().unwrap()))
            .collect();
        // Without the library, its symbol is missing too.
        assert_eq!(
            kinds,
            [
                ("missing-needed", "libprovider.so"),
                ("missing-symbol", "pyr_nobody_exports_this")
            ],
            "{release}"
        );
        assert_eq!(code, 1);
    }
    // Shipped in the same wheel, it is found (and provides the symbol).
    let whl = wheel("withdep", &["needsdep", "libprovider"]);
    let (code, report) = verify(&[&whl], &[]);
    assert_eq!(findings(&report), Vec::<Value>::new(), "{report:#}");
    assert_eq!(code, 0);
}

#[test]
fn js_function_called_with_split_i64_is_warned_and_misbehaves() {
    // Linked with WASM_BIGINT: no finding, and the call returns the real time.
    for Verdict {
        release,
        code,
        report,
        loaded: good,
    } in verdict_agrees("wasibigint")
    {
        assert_eq!(
            findings(&report),
            Vec::<Value>::new(),
            "{release}: {report:#}"
        );
        assert_eq!(code, 0);
        let now = good.call_result.as_i64().unwrap();
        assert!(now > 1_600_000_000, "{release}: clock_time_get gave {now}");
    }

    // Without: a warning naming the JS signature; it loads, but the time is lost.
    for Verdict {
        release,
        code,
        report,
        loaded: bad,
    } in verdict_agrees("wasinobigint")
    {
        let f = findings(&report);
        assert_eq!(f.len(), 1, "{release}: {f:#?}");
        assert_eq!(f[0]["severity"], "warning");
        assert_eq!(f[0]["kind"], "signature-mismatch");
        assert_eq!(f[0]["cause"], "missing-wasm-bigint");
        assert_eq!(f[0]["import_module"], "wasi_snapshot_preview1");
        assert_eq!(f[0]["symbol"], "clock_time_get");
        assert_eq!(f[0]["imported"], "(i32, i32, i32, i32) -> i32");
        assert_eq!(f[0]["provided"], "(i32, i64, i32) -> i32");
        assert_eq!(code, 0);
        assert_eq!(
            bad.call_result, 0,
            "{release}: the split i64 must lose the time"
        );
    }
}

#[test]
fn catch_clauses_use_loader_made_symbols_and_work() {
    for Verdict {
        release,
        code,
        report,
        loaded,
    } in verdict_agrees("catches")
    {
        // The module does import the names each loader makes on demand...
        let ext = &report["wheels"][0]["extensions"][0];
        assert!(ext["imports"].as_u64().unwrap() > 0);
        let on_demand = report["runtime"]["on_demand"].as_array().unwrap();
        let rules: Vec<&str> = on_demand.iter().map(|r| r.as_str().unwrap()).collect();
        let expected: &[&str] = if release == "0.23.4" {
            &[
                "__cxa_find_matching_catch_* (as __cxa_find_matching_catch)",
                "invoke_* (generated)",
            ]
        } else {
            &[
                "invoke_* (generated)",
                "__cxa_find_matching_catch_* (generated)",
            ]
        };
        assert_eq!(rules, expected, "{release}: {report:#}");
        assert!(
            report["runtime"]["on_demand_source"]
                .as_str()
                .unwrap()
                .starts_with("resolveGlobalSymbol in "),
            "{release}: {report:#}"
        );
        // ... and verify reports none of them; the catch clause is reached.
        assert_eq!(
            findings(&report),
            Vec::<Value>::new(),
            "{release}: {report:#}"
        );
        assert_eq!(code, 0);
        assert_eq!(loaded.call_result, 30, "{release}: catch (const C &)");
    }
    let imports = module_imports("catches");
    assert!(
        imports
            .iter()
            .any(|i| i.starts_with("__cxa_find_matching_catch_")),
        "{imports:?}"
    );
    assert!(
        imports.iter().any(|i| i.starts_with("invoke_")),
        "{imports:?}"
    );
}

/// The names a fixture imports from `env`, found by scanning for the
/// length-prefixed module name `env` followed by a length-prefixed name (as the
/// import section stores them): enough to show what the module asks for.
fn module_imports(name: &str) -> Vec<String> {
    let bytes = std::fs::read(so_path(name)).unwrap();
    let mut names = Vec::new();
    let mut i = 0;
    while i + 4 < bytes.len() {
        if &bytes[i..i + 4] == b"\x03env" {
            let len = bytes[i + 4] as usize;
            if let Ok(n) = std::str::from_utf8(&bytes[i + 5..(i + 5 + len).min(bytes.len())]) {
                names.push(n.to_string());
            }
        }
        i += 1;
    }
    names
}

#[test]
fn missing_data_symbol_is_an_error_and_fails_to_load() {
    for Verdict {
        release,
        code,
        report,
        loaded,
    } in verdict_agrees("missingdata")
    {
        let f = findings(&report);
        assert_eq!(f.len(), 1, "{release}: {f:#?}");
        assert_eq!(f[0]["kind"], "missing-data");
        assert_eq!(f[0]["import_module"], "GOT.mem");
        assert_eq!(f[0]["symbol"], "pyr_missing_data");
        assert_eq!(code, 1);
        assert!(
            loaded.load_error.contains("pyr_missing_data"),
            "{}",
            loaded.load_error
        );
    }
}

#[test]
fn weak_import_nobody_provides_is_only_a_warning_and_works() {
    for Verdict {
        release,
        code,
        report,
        loaded,
    } in verdict_agrees("weakfn")
    {
        let f = findings(&report);
        // The GOT.func entry of a weak name is optional (no finding); the function
        // import itself is a warning.
        assert_eq!(f.len(), 1, "{release}: {f:#?}");
        assert_eq!(f[0]["severity"], "warning");
        assert_eq!(f[0]["kind"], "missing-symbol");
        assert_eq!(f[0]["import_module"], "env");
        assert_eq!(code, 0);
        assert_eq!(loaded.call_result, -1, "the weak address must read as 0");
    }
}
