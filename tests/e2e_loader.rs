//! The target include dir and the Pyodide loader, alone: a side module built
//! by hand with the real emcc against the generated headers (no preload, no
//! rules), zipped into a wheel, installed with micropip and called in Pyodide
//! 0.23.4. Every value depends on the generated pyconfig.h matching Pyodide.

mod common;
#[path = "e2e_support/mod.rs"]
mod support;

use std::process::Command;

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn hand_built_side_module_sees_pyodide_sizes_and_works() {
    let Some(e) = support::E2e::get() else { return };
    let target: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&e.target_json).unwrap()).unwrap();
    let include = target["python_include"].as_str().unwrap();
    let emcc = target["emcc"].as_str().unwrap();
    let tag = target["platform_tag"].as_str().unwrap();
    let dir = e.scratch("loader");
    let obj = dir.join("sizes.o");
    let so = dir.join(format!("pyrewrite_sizes{}", e.ext_suffix));
    run(Command::new(emcc)
        .args(["-fPIC", "-O2", "-c"])
        .arg(format!("-I{include}"))
        .arg(e.root.join("tests/pyodide/sizes/sizes.c"))
        .arg("-o")
        .arg(&obj));
    run(Command::new(emcc)
        .args(["-shared", "-sSIDE_MODULE=1", "-sWASM_BIGINT", "-O2"])
        .arg(&obj)
        .arg("-o")
        .arg(&so));
    let out = Command::new("python3")
        .arg(e.root.join("tests/pyodide/make_wheel.py"))
        .args(["pyrewrite_sizes", "1.0", tag])
        .arg(&dir)
        .arg(&so)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wheel = std::path::PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());

    let json = support::pyodide(
        &e,
        &[wheel],
        &support::probe_code(
            &["pyrewrite_sizes"],
            &[
                ("sizes", "pyrewrite_sizes.sizes()"),
                ("roundtrip", "pyrewrite_sizes.roundtrip(2**40, 'héllo✓')"),
            ],
        ),
    );
    support::assert_loaded_from_so(&e, &json, &["pyrewrite_sizes"]);
    let values = &json["result"]["values"];
    // wasm32: ILP32 with a 4-byte Py_ssize_t, as Pyodide's own sysconfigdata says.
    assert_eq!(
        values["sizes"],
        serde_json::json!({"long": 4, "void_p": 4, "size_t": 4, "Py_ssize_t": 4, "PyObject": 8})
    );
    assert_eq!(
        values["roundtrip"],
        serde_json::json!([3 * (1u64 << 40) + 1, "✓olléh", 6, 2147483647])
    );
}
