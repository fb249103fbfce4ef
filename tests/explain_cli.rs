//! `pyrewrite explain`: the JSON format scripts rely on, the human output,
//! and clear errors for a bad `--target`. Runs the built binary
//! (scripts/build.sh first).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pyrewrite() -> PathBuf {
    // target/debug/deps/<test> → target/debug/pyrewrite
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("pyrewrite");
    assert!(
        bin.exists(),
        "{} is missing: run scripts/build.sh first",
        bin.display()
    );
    bin
}

/// A `$XDG_CONFIG_HOME` whose default profile is `{}` (every field its
/// default: emcc from PATH), so the tests never read the user's own.
/// Written once per test binary (tests run in parallel and read it).
fn config_home_with_default_profile() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("pyrewrite-explain-{}-xdg", std::process::id()));
        std::fs::create_dir_all(dir.join("pyrewrite")).unwrap();
        std::fs::write(dir.join("pyrewrite/target.json"), "{}").unwrap();
        dir
    })
    .clone()
}

/// `pyrewrite explain ARGS` with the default profile `{}` and no
/// `$PYREWRITE_TARGET`.
fn explain(args: &[&str]) -> Output {
    Command::new(pyrewrite())
        .arg("explain")
        .args(args)
        .env_remove("PYREWRITE_TARGET")
        .env("XDG_CONFIG_HOME", config_home_with_default_profile())
        .output()
        .unwrap()
}

fn json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json", "--"];
    all.extend_from_slice(args);
    let out = explain(&all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "exactly one line: {text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["action", "argv", "exit_code", "reason", "stdout"]);
    v
}

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("pyrewrite-explain-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn json_rewrite_of_a_debian_shared_link() {
    let v = json(&[
        "x86_64-linux-gnu-gcc",
        "-shared",
        "-Wl,-O1",
        "-Wl,-Bsymbolic-functions",
        "x.o",
        "-L/usr/lib/x86_64-linux-gnu",
        "-o",
        "x.cpython-311-x86_64-linux-gnu.so",
    ]);
    assert_eq!(v["action"], "rewrite");
    assert_eq!(
        v["argv"],
        serde_json::json!([
            "emcc",
            "-Wl,--no-whole-archive",
            "-shared",
            "x.o",
            "-o",
            "x.cpython-311-x86_64-linux-gnu.so",
            "-O2",
            "-g0",
            "-sSIDE_MODULE=1",
            "-sWASM_BIGINT"
        ])
    );
    assert!(v["stdout"].is_null() && v["exit_code"].is_null());
    assert!(v["reason"].as_str().unwrap().contains("side module"));
}

#[test]
fn json_answer_refuse_and_passthrough() {
    let v = json(&["gcc", "-print-multiarch"]);
    assert_eq!(v["action"], "answer");
    assert_eq!(v["stdout"], "wasm32-emscripten\n");
    assert_eq!(v["exit_code"], 0);
    assert_eq!(v["argv"], serde_json::json!([]));

    let v = json(&["cc", "-dumpmachine"]);
    assert_eq!(v["stdout"], "wasm32-unknown-emscripten\n");

    let v = json(&["g++", "-fopenmp", "-c", "y.cpp"]);
    assert_eq!(v["action"], "refuse");
    assert_eq!(v["exit_code"], 1);
    assert_eq!(v["stdout"], "");
    assert!(v["reason"].as_str().unwrap().contains("-fopenmp"));

    let v = json(&["python3", "setup.py", "build_ext"]);
    assert_eq!(v["action"], "passthrough");
    assert_eq!(
        v["argv"],
        serde_json::json!(["python3", "setup.py", "build_ext"])
    );
    assert!(v["stdout"].is_null() && v["exit_code"].is_null());

    let v = json(&["/usr/bin/strip", "x.so"]);
    assert_eq!(
        (v["action"].as_str(), v["stdout"].as_str()),
        (Some("answer"), Some(""))
    );
}

#[test]
fn target_profile_changes_the_rewrite() {
    let profile = temp_file(
        "ok.json",
        r#"{"emcc": "/opt/emsdk/upstream/emscripten/emcc", "python_include": "/py/include/python3.11", "cflags": ["-Os"]}"#,
    );
    let out = Command::new(pyrewrite())
        .args(["explain", "--json", "--target"])
        .arg(&profile)
        .args(["--", "gcc", "-I/usr/include/python3.11", "-c", "x.c"])
        .env("XDG_CONFIG_HOME", config_home_with_default_profile())
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let argv: Vec<&str> = v["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(argv[0], "/opt/emsdk/upstream/emscripten/emcc");
    assert_eq!(argv[1], "-I/py/include/python3.11");
    assert_eq!(argv.last(), Some(&"-fPIC"), "{argv:?}");
    assert!(argv.contains(&"-Os"));

    // The same profile through $PYREWRITE_TARGET: it wins over the default.
    let out = Command::new(pyrewrite())
        .args(["explain", "--json", "--", "gcc", "-c", "x.c"])
        .env("PYREWRITE_TARGET", &profile)
        .env("XDG_CONFIG_HOME", config_home_with_default_profile())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["argv"][0], "/opt/emsdk/upstream/emscripten/emcc");

    // --target wins over $PYREWRITE_TARGET.
    let other = temp_file("other.json", r#"{"emcc": "/other/emcc"}"#);
    let out = Command::new(pyrewrite())
        .args(["explain", "--json", "--target"])
        .arg(&other)
        .args(["--", "gcc", "-c", "x.c"])
        .env("PYREWRITE_TARGET", &profile)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["argv"][0], "/other/emcc");
    let _ = std::fs::remove_file(profile);
    let _ = std::fs::remove_file(other);
}

#[test]
fn the_default_profile_is_found_without_target_or_variable() {
    let home = config_home_with_default_profile().join("home");
    let config = home.join(".config/pyrewrite");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("target.json"),
        r#"{"emcc": "/home-default/emcc"}"#,
    )
    .unwrap();
    let explain_with = |xdg: Option<&Path>| {
        let mut c = Command::new(pyrewrite());
        c.args(["explain", "--json", "--", "gcc", "-c", "x.c"])
            .env_remove("PYREWRITE_TARGET")
            .env("HOME", &home);
        match xdg {
            Some(x) => c.env("XDG_CONFIG_HOME", x),
            None => c.env_remove("XDG_CONFIG_HOME"),
        };
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    // No XDG_CONFIG_HOME: ~/.config/pyrewrite/target.json.
    assert_eq!(explain_with(None)["argv"][0], "/home-default/emcc");
    // XDG_CONFIG_HOME wins over HOME.
    let xdg = config_home_with_default_profile();
    assert_eq!(explain_with(Some(&xdg))["argv"][0], "emcc");
}

#[test]
fn without_any_profile_a_compiler_call_is_refused_as_the_preload_does() {
    let empty =
        std::env::temp_dir().join(format!("pyrewrite-explain-{}-empty", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let run = |args: &[&str]| {
        Command::new(pyrewrite())
            .arg("explain")
            .args(args)
            .env_remove("PYREWRITE_TARGET")
            .env("XDG_CONFIG_HOME", &empty)
            .output()
            .unwrap()
    };
    let expected = format!(
        "no target profile: {}/pyrewrite/target.json does not exist",
        empty.display()
    );
    let out = run(&["--json", "--", "gcc", "-c", "x.c"]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["action"], "refuse");
    assert_eq!(v["exit_code"], 1);
    let reason = v["reason"].as_str().unwrap();
    assert!(reason.starts_with("pyrewrite: error: "), "{reason}");
    assert!(reason.contains(&expected), "{reason}");
    assert!(
        reason.contains("make it with `pyrewrite target from-pyodide PYODIDE_DIR`"),
        "{reason}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains(&expected));
    // Not a compiler: it runs, profile or not (and the missing one is said).
    let out = run(&["--json", "--", "python3", "setup.py"]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["action"], "passthrough");
    assert!(String::from_utf8_lossy(&out.stderr).contains(&expected));
}

#[test]
fn human_output_lists_the_changes() {
    let out = explain(&["--", "gcc", "-pthread", "-m64", "-c", "a.c", "-o", "a.o"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("action: rewrite\ntool:   cc\nreason: C compile → emcc\n"),
        "{text}"
    );
    // Through the fast path's runner (built next to the driver), then emcc.
    assert!(
        text.contains("/pyrewrite-cc emcc -c a.c -o a.o -Werror=implicit-function-declaration"),
        "{text}"
    );
    assert!(text.contains("\nfast:   "), "{text}");
    assert!(text.contains("dropped `-pthread`"), "{text}");
    assert!(text.contains("dropped `-m64`"), "{text}");
}

#[test]
fn bad_target_files_are_named_with_the_field() {
    let bad = temp_file("bad.json", r#"{"emcc": "emcc", "cflag": ["-O2"]}"#);
    let out = explain(&["--target", bad.to_str().unwrap(), "--", "gcc", "-c", "a.c"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(bad.to_str().unwrap()), "{err}");
    assert!(err.contains("field `cflag`"), "{err}");
    // What the preload would do with it: refuse the compile, same words.
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("action: refuse\ntool:   cc\n"), "{text}");
    assert!(text.contains("field `cflag`"), "{text}");
    let _ = std::fs::remove_file(&bad);

    let out = explain(&["--target", "/nonexistent/target.json", "--", "gcc"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/nonexistent/target.json does not exist (from --target)"),
        "{err}"
    );
}

#[test]
fn missing_command_is_a_usage_error() {
    let out = explain(&["--json"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ARGV"));
}

/// `explain` of a configure step names the generated file where the preload
/// would write it (XDG_CACHE_HOME) and prints all of it.
fn explain_in_cache(args: &[&str], cache: &str) -> String {
    let out = Command::new(pyrewrite())
        .arg("explain")
        .arg("--")
        .args(args)
        .env_remove("PYREWRITE_TARGET")
        .env("XDG_CONFIG_HOME", config_home_with_default_profile())
        .env("XDG_CACHE_HOME", cache)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn meson_setup_shows_the_cross_file_it_would_write() {
    let out = explain_in_cache(&["meson", "setup", "build"], "/xdg");
    assert!(out.contains("action: rewrite\ntool:   meson\n"), "{out}");
    let run = out.lines().find(|l| l.starts_with("run:")).unwrap();
    assert!(
        run.starts_with("run:    meson setup build --cross-file=/xdg/pyrewrite/meson-cross-"),
        "{out}"
    );
    assert!(out.contains("(generated meson cross file):"), "{out}");
    for line in ["[host_machine]", "cpu_family = 'wasm32'", "c = 'cc'"] {
        assert!(
            out.contains(&format!("          {line}\n")),
            "no {line}: {out}"
        );
    }
    let v = json(&["meson", "setup", "build"]);
    assert_eq!(v["action"], "rewrite");
    assert!(v["argv"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_str()
        .unwrap()
        .starts_with("--cross-file="));
}

#[test]
fn cmake_configure_shows_the_toolchain_and_builds_pass_through() {
    let out = explain_in_cache(&["cmake", "-S", ".", "-B", "build"], "/xdg");
    assert!(out.contains("tool:   cmake\n"), "{out}");
    assert!(
        out.contains("-DCMAKE_TOOLCHAIN_FILE=/xdg/pyrewrite/cmake-"),
        "{out}"
    );
    assert!(out.contains("(generated CMake toolchain file):"), "{out}");
    assert!(
        out.contains("set_property(GLOBAL PROPERTY TARGET_SUPPORTS_SHARED_LIBS TRUE)"),
        "{out}"
    );
    assert!(
        !out.contains("env:"),
        "a configure step keeps the build's environment: {out}"
    );
    assert_eq!(
        json(&["cmake", "--build", "build"])["action"],
        "passthrough"
    );
}

#[test]
fn a_program_link_shows_emcc_autoconf_mode() {
    let out = explain_in_cache(&["gcc", "conftest.c", "-o", "conftest"], "/xdg");
    assert!(out.contains("env:    EMMAKEN_JUST_CONFIGURE=1\n"), "{out}");
    assert!(out.contains("-sNODERAWFS=1"), "{out}");
}
