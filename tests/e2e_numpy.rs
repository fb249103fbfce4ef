//! The stretch case, opt-in (about 25 minutes on 2 cores):
//!
//! ```sh
//! cargo test --test e2e_numpy -- --ignored
//! ```
//!
//! numpy 1.26.4 from its unchanged sdist: meson-python with numpy's *vendored*
//! meson, run as `python …/vendored-meson/meson/meson.py setup` (a PATH
//! wrapper would miss it; the exec hook does not). The sdist is downloaded into
//! `.cache/sdists` on first use (pip prepares its metadata by building numpy
//! natively, about 10 minutes).
//!
//! What it proves: the build succeeds under `pyrewrite run -- pip wheel`, the
//! vendored meson's `setup` was rewritten, every extension is a wasm side
//! module, and Pyodide does what `pyrewrite verify` predicted: with a profile
//! whose emcc has a 32-bit `time_t` (Debian's 3.1.6) against Pyodide 0.23.4
//! (64-bit) verify reports `time` and the load fails with exactly that
//! LinkError; with matching toolchains numpy's core, `fft` and `linalg` must
//! compute the right values.

mod common;
#[path = "e2e_support/mod.rs"]
mod support;

use pyrewrite_protocol::Action;
use serde_json::json;
use std::process::Command;
use support::{build, pyodide, E2e, Via};

const NUMPY: &str = "numpy-1.26.4";

#[test]
#[ignore = "numpy 1.26.4 build (~25 min on 2 cores): cargo test --test e2e_numpy -- --ignored"]
fn numpy_from_its_unchanged_sdist_builds_and_pyodide_agrees_with_verify() {
    let Some(e) = E2e::get() else { return };
    let sdist = e.sdists.join(format!("{NUMPY}.tar.gz"));
    if !sdist.is_file() {
        let ok = Command::new("python3")
            .args([
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--no-binary",
                "numpy",
            ])
            .arg("-d")
            .arg(&e.sdists)
            .arg("numpy==1.26.4")
            .status()
            .expect("python3 -m pip");
        assert!(
            ok.success() && sdist.is_file(),
            "pip download numpy==1.26.4 failed"
        );
    }
    let out = e.scratch("numpy");
    let started = std::time::Instant::now();
    let built =
        build(&e, &sdist, &out, Via::Run { isolation: true }).unwrap_or_else(|err| panic!("{err}"));
    eprintln!(
        "built {NUMPY} in {:.0?}: {:?}",
        started.elapsed(),
        built.wheels
    );
    assert_eq!(built.wheels.len(), 1, "{:?}", built.wheels);
    assert!(built.wheels[0]
        .to_string_lossy()
        .ends_with("-emscripten_3_1_32_wasm32.whl"));

    // The vendored meson, run through the interpreter, got the cross file.
    let events = support::run_events(&out);
    let setup = events
        .iter()
        .find(|e| e.tool.as_deref() == Some("meson") && e.action == Action::Rewrite)
        .expect("a rewritten meson setup");
    assert!(
        setup
            .argv
            .iter()
            .any(|a| a.ends_with("vendored-meson/meson/meson.py")),
        "{:?}",
        setup.argv
    );
    assert!(setup
        .new_argv
        .as_ref()
        .unwrap()
        .last()
        .unwrap()
        .starts_with("--cross-file="));

    // The snippet never raises: a failed import is a value, so the runtime's
    // verdict can be compared with verify's.
    let code = r#"
try:
    import numpy as np
    from numpy.fft import _pocketfft_internal as f
    from numpy.linalg import lapack_lite as l
    result = {
        'files': [np.core._multiarray_umath.__file__, f.__file__, l.__file__],
        'sum': int(np.arange(10).sum()),
        'fft': [float(x.real) for x in np.fft.fft([1.0, 0.0, 0.0, 0.0])],
        'det': round(float(np.linalg.det([[1.0, 2.0], [3.0, 4.0]])), 6),
    }
except BaseException as e:
    result = {'error': type(e).__name__ + ': ' + str(e)[:200]}
"#;
    let ran = pyodide(&e, &built.wheels, code);
    match &built.verify_errors {
        Some(errors) => {
            // The known toolchain skew (docs/e2e.md): verify's finding must
            // be the load failure Pyodide reports.
            assert!(
                errors.contains("`time`"),
                "unexpected verify errors:\n{errors}"
            );
            let install = ran["install_errors"].to_string();
            assert!(
                install.contains("LinkError") && install.contains("function=\\\"time\\\""),
                "verify predicted a LinkError on `time`; Pyodide said: {ran:#}"
            );
            assert!(
                ran["result"]["error"].is_string(),
                "numpy cannot import: {ran:#}"
            );
        }
        None => {
            assert_eq!(ran["install_errors"], json!({}), "{ran:#}");
            let r = &ran["result"];
            for f in r["files"].as_array().unwrap() {
                assert!(f.as_str().unwrap().ends_with(&e.ext_suffix), "{r:#}");
            }
            assert_eq!(r["sum"], 45);
            assert_eq!(r["fft"], json!([1.0, 1.0, 1.0, 1.0]));
            assert_eq!(r["det"], json!(-2.0));
        }
    }
}
