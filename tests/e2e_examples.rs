//! The bundled examples, built by an unchanged `pip wheel` under pyrewrite and
//! run in Pyodide 0.23.4 and in the second release (0.25.1, Emscripten
//! 3.1.46), each with its own profile: a C extension, a C++ extension with
//! exceptions, a package with several extensions (C and C++, one in a
//! subpackage), and a pure-Python package. Plus the first use
//! (`LD_PRELOAD=libpyrewrite.so pip wheel` then `pyrewrite retag`), the known
//! time_t gap, and the proof that the two releases' profiles make the same
//! build (so the sdist suites reuse their wheels for the second release).

mod common;
#[path = "e2e_support/mod.rs"]
mod support;

use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use support::{build, copy_tree, pyodide, E2e, Via};

const MODULES: &[&str] = &[
    "hello_c._hello",
    "cxx_exceptions._cxx",
    "multi_ext._cmath",
    "multi_ext.sub._cxxstr",
];

#[test]
fn examples_built_with_pyrewrite_run_work_in_pyodide() {
    let Some(e) = E2e::get() else { return };
    // Known gap (docs/e2e.md): libc++'s ctype<char> table differs between
    // emcc 3.1.6 and Pyodide's 3.1.32, so `>>` sees no blank (natively:
    // ["a", "bc"]). If this changes, update the docs.
    examples_work_in(&e, "examples-run", json!(["a bc"]));
}

/// The same examples built with the second release's profile (its tag, its
/// pyconfig.h) and run in that Pyodide with its own micropip. verify knows
/// that release's loader: the C++ examples' `__cxa_find_matching_catch_5`/`_6`
/// and `invoke_*`, which 3.1.46 creates on demand, are not reported (issue
/// 16); only libc++ internals really missing from the runtime are.
#[test]
fn examples_built_for_the_second_release_work_there() {
    let Some(e) = E2e::second() else { return };
    examples_work_in(&e, "examples-run-second", json!(["a bc"]));
}

fn examples_work_in(e: &E2e, scratch: &str, stream: Value) {
    let scratch = e.scratch(scratch);
    let mut wheels = Vec::new();
    let mut verify = serde_json::Map::new();
    for name in ["hello-c", "cxx-exceptions", "multi-ext", "pure-python"] {
        let src = copy_tree(&e.root.join("examples").join(name), &scratch.join("src"));
        let support::Built {
            wheels: built,
            verify_errors,
        } = build(e, &src, &scratch.join(name), Via::Run { isolation: true })
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        verify.insert(name.into(), json!(verify_errors));
        assert_eq!(built.len(), 1, "{name}: one wheel expected, got {built:?}");
        let file = built[0].file_name().unwrap().to_string_lossy().into_owned();
        if name == "pure-python" {
            assert!(
                file.ends_with("-py3-none-any.whl"),
                "{file}: must stay pure"
            );
        } else {
            assert!(
                file.ends_with(&format!("-cp311-cp311-{}.whl", e.platform_tag)),
                "{file}"
            );
        }
        wheels.extend(built);
    }
    eprintln!("verify findings: {verify:#?}");
    // `pyrewrite run` checks every wheel's imports against Pyodide. The C++
    // examples (std::string, std::vector) call libc++ 14 helpers of emcc
    // 3.1.6 (`__throw_length_error`) that Pyodide's newer libc++ no longer
    // exports: the profile's libc++ compat object provides them, so every
    // example verifies clean (and the error paths are called below).
    for (name, findings) in &verify {
        assert_eq!(findings, &json!(null), "{name}: verify found errors");
    }

    let code = support::probe_code(
        &[MODULES, &["pure_python"]].concat(),
        &[
            ("fib", "hello_c.fib(90)"),
            ("reverse", "hello_c.reverse('héllo')"),
            ("words", "hello_c.word_count('a b  c')"),
            (
                "checked_sum",
                "cxx_exceptions.checked_sum([1, -2, 3, -4, 5])",
            ),
            ("parse_int", "cxx_exceptions.parse_int('-42')"),
            ("parse_bad", "raises(cxx_exceptions.parse_int, 'x')"),
            ("parse_huge", "raises(cxx_exceptions.parse_int, '9' * 30)"),
            // libc++'s out-of-line error helpers, from the compat object:
            // std::length_error and std::out_of_range thrown there are caught
            // by the module's own catch clauses.
            ("resize", "cxx_exceptions.reserve('vector', 3)"),
            (
                "resize_huge",
                "raises(cxx_exceptions.reserve, 'vector', 2**30)",
            ),
            (
                "reserve_huge",
                "raises(cxx_exceptions.reserve, 'string', 2**32 - 1)",
            ),
            ("char_at", "cxx_exceptions.char_at('abc', 1)"),
            ("char_at_bad", "raises(cxx_exceptions.char_at, 'abc', 5)"),
            ("gcd", "multi_ext.gcd(84, 36)"),
            ("upper", "multi_ext.upper_words('a bc')"),
            ("stream", "multi_ext.sub._cxxstr.stream_words('a bc')"),
            ("rot13", "pure_python.rot13('Hello')"),
        ],
    );
    let out = pyodide(e, &wheels, &code);
    assert_eq!(out["install_errors"], json!({}), "{out:#}");
    support::assert_loaded_from_so(e, &out, MODULES);
    let pure = out["result"]["files"]["pure_python"].as_str().unwrap();
    assert!(pure.ends_with("pure_python/__init__.py"), "{pure}");
    assert_eq!(
        out["result"]["values"],
        json!({
            "fib": 2880067194370816120u64,
            "reverse": "olléh",
            "words": 3,
            // Negative items throw a C++ exception that is caught inside.
            "checked_sum": [9, 2],
            "parse_int": -42,
            // std::invalid_argument and std::out_of_range, translated.
            "parse_bad": "ValueError",
            "parse_huge": "OverflowError",
            "resize": 3,
            "resize_huge": "MemoryError",
            "reserve_huge": "MemoryError",
            "char_at": "b",
            "char_at_bad": "IndexError",
            "gcd": 12,
            "upper": ["A", "BC"],
            "stream": stream,
            "rot13": "Uryyb",
        }),
        "{out:#}"
    );
}

#[test]
fn direct_ld_preload_build_then_retag_works_in_pyodide_and_time_gap_is_reported() {
    let Some(e) = E2e::get() else { return };
    let scratch = e.scratch("examples-preload");
    let hello = copy_tree(&e.root.join("examples/hello-c"), &scratch.join("src"));
    let mut wheels = build(&e, &hello, &scratch.join("hello-c"), Via::Preload)
        .unwrap_or_else(|err| panic!("hello-c: {err}"))
        .wheels;
    // Known limitation (docs/e2e.md): emcc 3.1.6's 32-bit time_t against
    // Pyodide 0.23.4's 64-bit one. The build succeeds; loading must fail.
    let gap = copy_tree(&e.root.join("tests/pyodide/time-gap"), &scratch.join("src"));
    let gap = build(
        &e,
        &gap,
        &scratch.join("time-gap"),
        Via::Run { isolation: true },
    )
    .unwrap_or_else(|err| panic!("time-gap: {err}"));
    // `pyrewrite run` already says so (verify, exit 4), before any loading.
    let findings = gap.verify_errors.unwrap_or_default();
    assert!(
        findings.contains("`time`") || findings.contains("time"),
        "time-gap: pyrewrite verify should report the time import: {findings:?}"
    );
    wheels.extend(gap.wheels);

    let code = support::probe_code(
        &["hello_c._hello", "time_gap"],
        &[("fib", "hello_c.fib(10)")],
    );
    let out = pyodide(&e, &wheels, &code);
    support::assert_loaded_from_so(&e, &out, &["hello_c._hello"]);
    assert_eq!(out["result"]["values"]["fib"], json!(55));
    // micropip loads the side module at install: that is where it fails.
    let errors = out["install_errors"].as_object().unwrap();
    assert_eq!(errors.len(), 1, "{out:#}");
    let (wheel, err) = errors.iter().next().unwrap();
    assert!(wheel.starts_with("pyrewrite_time_gap-"), "{out:#}");
    let err = err.as_str().unwrap();
    assert!(
        err.contains("LinkError") && err.contains("function=\"time\""),
        "time_gap should fail to load on the time_t mismatch; got {err}"
    );
}

/// Why the sdist suites may reuse the 0.23.4 build for the second release:
/// the two generated profiles differ only in the tag, the runtime and the
/// include dir, and the include dirs only in `pyconfig.h` macros that no
/// CPython header, example or reused sdist mentions. The compiles are then
/// the same, byte for byte. When a release changes more, this fails and the
/// suites must build per release.
#[test]
fn second_profile_makes_the_same_build_as_the_first() {
    let (Some(first), Some(second)) = (E2e::get(), E2e::second()) else {
        return;
    };
    let read =
        |p: &Path| -> Value { serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap() };
    let (mut a, mut b) = (read(&first.target_json), read(&second.target_json));
    assert_eq!(a["platform_tag"], "emscripten_3_1_32_wasm32");
    assert_eq!(b["platform_tag"], "emscripten_3_1_46_wasm32");
    let include_a = a["python_include"].as_str().unwrap().to_owned();
    let include_b = b["python_include"].as_str().unwrap().to_owned();
    for field in ["platform_tag", "pyodide_dir", "python_include"] {
        a.as_object_mut().unwrap().remove(field);
        b.as_object_mut().unwrap().remove(field);
    }
    assert_eq!(
        a, b,
        "the profiles differ beyond tag, runtime and include dir"
    );

    let files = |dir: &str| -> BTreeSet<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(files(&include_a), files(&include_b));
    let mut differing = BTreeSet::new();
    for f in files(&include_a) {
        let pa = Path::new(&include_a).join(&f);
        if pa.is_dir() {
            let same = Command::new("diff")
                .arg("-r")
                .arg(&pa)
                .arg(Path::new(&include_b).join(&f))
                .status()
                .unwrap();
            assert!(same.success(), "{f}/ differs between the include dirs");
            continue;
        }
        let (ta, tb) = (
            std::fs::read_to_string(&pa).unwrap(),
            std::fs::read_to_string(Path::new(&include_b).join(&f)).unwrap(),
        );
        if f != "pyconfig.h" {
            assert_eq!(ta, tb, "{f} differs between the include dirs");
            continue;
        }
        let (la, lb): (Vec<&str>, Vec<&str>) = (ta.lines().collect(), tb.lines().collect());
        assert_eq!(la.len(), lb.len(), "pyconfig.h layouts differ");
        for (x, y) in la.iter().zip(&lb) {
            if x != y {
                let name = x
                    .split_whitespace()
                    .find(|w| {
                        w.chars()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                            && w.len() > 2
                    })
                    .unwrap_or_else(|| panic!("pyconfig.h: cannot name the macro of {x:?}"));
                differing.insert(name.to_owned());
            }
        }
    }
    eprintln!("pyconfig.h macros that differ: {differing:?}");
    // Every place a compile of the reused builds could read them.
    let pattern = differing.iter().cloned().collect::<Vec<_>>().join("\\|");
    let grep = |what: &str, cmd: &str| {
        let out = Command::new("sh").arg("-c").arg(cmd).output().unwrap();
        let hits = String::from_utf8_lossy(&out.stdout);
        assert!(hits.trim().is_empty(), "{what} uses {differing:?}: {hits}");
    };
    if !differing.is_empty() {
        grep(
            "a CPython header",
            &format!("grep -rl --exclude=pyconfig.h '{pattern}' '{include_a}'"),
        );
        grep(
            "an example",
            &format!(
                "grep -rl '{pattern}' '{}'",
                first.root.join("examples").display()
            ),
        );
        // The sdists whose 0.23.4 wheels e2e_sdists and e2e_backend_sdists
        // retag for the second release instead of building them again.
        for sdist in support::SETUPTOOLS_SDISTS
            .iter()
            .chain(support::BACKEND_SDISTS)
        {
            let path = first.sdist(sdist);
            grep(
                sdist,
                &format!("tar xzf '{}' -O | grep -a '{pattern}'", path.display()),
            );
        }
    }
}
