//! `pyrewrite retag` as users run it: exit codes, messages, files.

#[path = "../src/wheel/fixtures.rs"]
mod fixtures;

use fixtures::*;
use std::path::Path;
use std::process::{Command, Output};

/// A `$XDG_CONFIG_HOME` whose default profile is `{}` (the Pyodide 0.23
/// defaults: emscripten_3_1_32_wasm32, .cpython-311-wasm32-emscripten.so).
fn config_home() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("pyrewrite")).unwrap();
        std::fs::write(dir.path().join("pyrewrite/target.json"), "{}").unwrap();
        dir
    })
    .path()
}

/// `pyrewrite ARGS` with the default profile of [`config_home`].
fn pyrewrite(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pyrewrite"))
        .args(args)
        .env_remove("PYREWRITE_TARGET")
        .env("XDG_CONFIG_HOME", config_home())
        .output()
        .expect("run pyrewrite")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn retags_into_out_and_reports_renames() {
    let dir = tempfile::tempdir().unwrap();
    let input = native_tagged_wheel(dir.path(), side_module());
    let out = dir.path().join("dist");
    let r = pyrewrite(&["retag", s(&input), "--out", s(&out)]);
    let stdout = text(&r.stdout);
    assert_eq!(r.status.code(), Some(0), "{stdout}{}", text(&r.stderr));
    let produced = out.join("demo-1.0-cp311-cp311-emscripten_3_1_32_wasm32.whl");
    assert!(produced.is_file());
    assert!(
        stdout.contains(&format!("retagged {} -> {}", s(&input), s(&produced))),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "renamed demo/_fast{HOST_SUFFIX} -> demo/_fast{TARGET_SUFFIX}"
        )),
        "{stdout}"
    );
    assert!(input.is_file(), "the native original must stay");
}

#[test]
fn default_out_is_next_to_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = native_tagged_wheel(dir.path(), side_module());
    let r = pyrewrite(&["retag", s(&input)]);
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    assert!(dir
        .path()
        .join("demo-1.0-cp311-cp311-emscripten_3_1_32_wasm32.whl")
        .is_file());
}

#[test]
fn a_bad_wheel_fails_with_exit_2_and_the_others_are_still_done() {
    let dir = tempfile::tempdir().unwrap();
    let bad_dir = dir.path().join("bad");
    std::fs::create_dir(&bad_dir).unwrap();
    let bad = native_tagged_wheel(&bad_dir, elf_shared_object());
    let good = native_tagged_wheel(dir.path(), side_module());
    let out = dir.path().join("out");
    let r = pyrewrite(&["retag", s(&bad), s(&good), "--out", s(&out)]);
    let stderr = text(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "pyrewrite: error: wheel {}: member demo/_fast{HOST_SUFFIX} is a native ELF shared object",
            s(&bad)
        )),
        "{stderr}"
    );
    let written: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
    assert_eq!(written.len(), 1, "only the good wheel is written");
}

#[test]
fn a_decompression_bomb_fails_with_exit_2_naming_wheel_and_member() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = wheel_with_member(dir.path(), "demo/zeros.bin", vec![0; 8 << 20]);
    let out = dir.path().join("out");
    let r = pyrewrite(&["retag", s(&bomb), "--out", s(&out)]);
    let stderr = text(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "pyrewrite: error: wheel {}: member demo/zeros.bin decompresses to 8388608 bytes",
            s(&bomb)
        )),
        "{stderr}"
    );
    assert!(stderr.contains("decompression bomb"), "{stderr}");
    let written = std::fs::read_dir(&out).map(|d| d.count()).unwrap_or(0);
    assert_eq!(written, 0, "nothing is written for a refused wheel");
}

#[test]
fn platform_tag_option_and_target_profile_are_used() {
    let dir = tempfile::tempdir().unwrap();
    let input = native_tagged_wheel(dir.path(), side_module());
    let r = pyrewrite(&[
        "retag",
        s(&input),
        "--platform-tag",
        "pyemscripten_2025_0_wasm32",
    ]);
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    assert!(dir
        .path()
        .join("demo-1.0-cp311-cp311-pyemscripten_2025_0_wasm32.whl")
        .is_file());

    let profile = dir.path().join("target.json");
    std::fs::write(
        &profile,
        r#"{"platform_tag": "pyodide_2024_0_wasm32", "ext_suffix": ".cpython-311-wasm32-pyodide.so"}"#,
    )
    .unwrap();
    let r = pyrewrite(&["retag", s(&input), "--target", s(&profile)]);
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    let produced = dir
        .path()
        .join("demo-1.0-cp311-cp311-pyodide_2024_0_wasm32.whl");
    let names: Vec<String> = read_zip(&produced).into_iter().map(|(n, _)| n).collect();
    assert!(
        names.contains(&"demo/_fast.cpython-311-wasm32-pyodide.so".to_string()),
        "{names:?}"
    );
}

#[test]
fn bad_options_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let input = native_tagged_wheel(dir.path(), side_module());
    let r = pyrewrite(&["retag", s(&input), "--platform-tag", "emscripten-3.1"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(
        text(&r.stderr).contains("platform tag \"emscripten-3.1\" is not valid"),
        "{}",
        text(&r.stderr)
    );

    let profile = dir.path().join("bad.json");
    std::fs::write(&profile, "{not json").unwrap();
    let r = pyrewrite(&["retag", s(&input), "--target", s(&profile)]);
    assert_eq!(r.status.code(), Some(2));
    assert!(text(&r.stderr).contains(&format!(
        "target profile {} (from --target) is not valid",
        s(&profile)
    )));

    let r = pyrewrite(&["retag", "/nonexistent/x-1.0-py3-none-any.whl"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(
        text(&r.stderr).contains("cannot read /nonexistent/x-1.0-py3-none-any.whl"),
        "{}",
        text(&r.stderr)
    );
}

#[test]
fn events_without_the_link_warn_and_strict_makes_it_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let input = native_tagged_wheel(dir.path(), side_module());
    let events = dir.path().join("events.jsonl");
    let line = |out: &str| {
        format!(
            r#"{{"pid":2,"ppid":1,"cwd":"/src","function":"execve","path":"/usr/bin/gcc","argv":["gcc","-shared","x.o","-o","{out}"],"action":"rewrite","new_argv":["emcc","-shared","x.o","-o","{out}","-sSIDE_MODULE=1"],"tool":"cc","time":1.0}}"#
        )
    };
    std::fs::write(
        &events,
        format!("{}\nnot an event\n", line("build/_other.so")),
    )
    .unwrap();
    let r = pyrewrite(&["retag", s(&input), "--events", s(&events)]);
    let stderr = text(&r.stderr);
    assert_eq!(r.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("skipped 1 line(s) that are not events"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "warning: {}: demo/_fast{HOST_SUFFIX} does not come from any link",
            s(&input)
        )),
        "{stderr}"
    );
    let r = pyrewrite(&["retag", s(&input), "--events", s(&events), "--strict"]);
    assert_eq!(r.status.code(), Some(1), "{}", text(&r.stderr));

    std::fs::write(
        &events,
        line(&format!("build/lib/demo/_fast{HOST_SUFFIX}")) + "\n",
    )
    .unwrap();
    let r = pyrewrite(&["retag", s(&input), "--events", s(&events), "--strict"]);
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    assert!(!text(&r.stderr).contains("warning"), "{}", text(&r.stderr));
}

#[test]
fn pure_wheel_is_reported_as_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_zip(
        &dir.path().join("demo-1.0-py3-none-any.whl"),
        &with_record(DIST, members(DIST, &["py3-none-any"], None)),
    );
    let r = pyrewrite(&["retag", s(&input)]);
    assert_eq!(r.status.code(), Some(0));
    assert!(
        text(&r.stdout).contains(&format!(
            "left as it is (no extension modules): {}",
            s(&input)
        )),
        "{}",
        text(&r.stdout)
    );
}

#[test]
fn help_explains_the_behaviour() {
    let r = pyrewrite(&["retag", "--help"]);
    let help = text(&r.stdout);
    assert_eq!(r.status.code(), Some(0));
    for needle in [
        "dylink.0",
        "-sSIDE_MODULE=1",
        "--out",
        "--events",
        "--platform-tag",
        "abi3",
        "never modified",
        "Exit status",
    ] {
        assert!(help.contains(needle), "--help lacks {needle:?}:\n{help}");
    }
}

#[test]
fn output_unpacks_with_the_wheel_tool() {
    let dir = tempfile::tempdir().unwrap();
    let input = native_tagged_wheel(dir.path(), side_module());
    let r = pyrewrite(&["retag", s(&input), "--out", s(&dir.path().join("out"))]);
    assert_eq!(r.status.code(), Some(0));
    let produced = dir
        .path()
        .join("out/demo-1.0-cp311-cp311-emscripten_3_1_32_wasm32.whl");
    // `wheel unpack` verifies every RECORD hash and size.
    let u = Command::new("python3")
        .args(["-m", "wheel", "unpack", "-d"])
        .arg(dir.path().join("unpacked"))
        .arg(&produced)
        .output()
        .unwrap();
    assert!(
        u.status.success(),
        "wheel unpack (pip install wheel): {}",
        text(&u.stderr)
    );
    let so = dir
        .path()
        .join(format!("unpacked/demo-1.0/demo/_fast{TARGET_SUFFIX}"));
    assert_eq!(std::fs::read(so).unwrap(), side_module());
}

#[test]
fn json_output_describes_each_wheel() {
    let dir = tempfile::tempdir().unwrap();
    let good = native_tagged_wheel(dir.path(), side_module());
    let missing = dir.path().join("gone-1.0-py3-none-any.whl");
    let r = pyrewrite(&["retag", "--json", s(&good), s(&missing)]);
    assert_eq!(r.status.code(), Some(2));
    let lines: Vec<serde_json::Value> = text(&r.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", text(&r.stdout));
    assert_eq!(lines[0]["outcome"], "retagged");
    assert_eq!(lines[0]["platform_tag"], "emscripten_3_1_32_wasm32");
    assert_eq!(
        lines[0]["renamed"][0][1],
        format!("demo/_fast{TARGET_SUFFIX}")
    );
    assert_eq!(lines[1]["input"], s(&missing));
    assert!(lines[1]["error"].as_str().unwrap().contains("cannot read"));
}

#[test]
fn a_target_profile_with_a_bad_suffix_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = native_tagged_wheel(dir.path(), side_module());
    let profile = dir.path().join("t.json");
    std::fs::write(&profile, r#"{"ext_suffix": "wasm"}"#).unwrap();
    let r = pyrewrite(&["retag", s(&input), "--target", s(&profile)]);
    assert_eq!(r.status.code(), Some(2));
    assert!(
        text(&r.stderr).contains("target ext_suffix \"wasm\" is not an extension suffix"),
        "{}",
        text(&r.stderr)
    );
}

#[test]
fn without_a_profile_retag_says_which_file_and_how_to_make_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = native_tagged_wheel(dir.path(), side_module());
    let empty = dir.path().join("xdg");
    let r = Command::new(env!("CARGO_BIN_EXE_pyrewrite"))
        .args(["retag", s(&input)])
        .env_remove("PYREWRITE_TARGET")
        .env("XDG_CONFIG_HOME", &empty)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    let err = text(&r.stderr);
    assert!(
        err.contains(&format!(
            "no target profile: {}/pyrewrite/target.json does not exist",
            s(&empty)
        )),
        "{err}"
    );
    assert!(
        err.contains("pyrewrite target from-pyodide PYODIDE_DIR"),
        "{err}"
    );
    // $PYREWRITE_TARGET is read before the default.
    let profile = dir.path().join("env.json");
    std::fs::write(&profile, r#"{"platform_tag": "pyodide_2024_0_wasm32"}"#).unwrap();
    let r = Command::new(env!("CARGO_BIN_EXE_pyrewrite"))
        .args(["retag", s(&input)])
        .env("PYREWRITE_TARGET", &profile)
        .env("XDG_CONFIG_HOME", &empty)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    assert!(dir
        .path()
        .join("demo-1.0-cp311-cp311-pyodide_2024_0_wasm32.whl")
        .is_file());
}
