//! The target profile's `env` reaches the rewritten command only: a fake emcc
//! records the variables it sees, through the execve-family and posix_spawn
//! rewrite paths; passthrough execs of the same session keep the caller's
//! environment (see docs/preload.md, "Profile environment").

mod common;

use common::*;
use pyrewrite_protocol::Action;
use std::path::{Path, PathBuf};

/// A fake emcc that writes `NODE_PATH` and `PYREWRITE_TEST_X` (or `unset`)
/// to `seen-env`, then produces the `-o` output.
fn env_recording_emcc(dir: &Path) -> PathBuf {
    let path = dir.join("fake-emcc");
    let script = format!(
        r#"#!/bin/sh
printf '%s|%s|%s\n' "${{NODE_PATH-unset}}" "${{PYREWRITE_TEST_X-unset}}" "${{LD_PRELOAD-}}" >> "{log}"
out=""; prev=""
for a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; done
[ -n "$out" ] && echo fake-wasm > "$out"
exit 0
"#,
        log = dir.join("seen-env").display()
    );
    std::fs::write(&path, script).unwrap();
    set_mode(&path, 0o755);
    path
}

fn profile(dir: &Path, emcc: &Path) -> PathBuf {
    let t = serde_json::json!({
        "emcc": emcc,
        "emxx": emcc,
        "env": {"NODE_PATH": "/profile/nodejs", "PYREWRITE_TEST_X": "from-profile"},
    });
    let p = dir.join("target.json");
    std::fs::write(&p, t.to_string()).unwrap();
    p
}

struct Setup {
    dir: PathBuf,
    session: Session,
    exec_each: PathBuf,
}

fn setup(name: &str) -> Setup {
    let dir = scratch(name);
    let emcc = env_recording_emcc(&dir);
    let target = profile(&dir, &emcc);
    write(&dir, "x.c", "int x;\n");
    let exec_each = build_c_fixture("exec_each.c", &dir);
    let session = Session::new(&dir, Some(target));
    Setup {
        dir,
        session,
        exec_each,
    }
}

fn seen(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("seen-env"))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

/// `exec_each FUNCTION PATH gcc -c x.c -o x.o` with `caller_node_path` (or
/// none) in the caller's environment; returns what the fake emcc saw.
fn compile_with(function: &str, path: &str, caller_node_path: Option<&str>) -> String {
    let s = setup(&format!("env-{function}"));
    let mut cmd = s.session.command(&s.exec_each);
    cmd.args([function, path, "gcc", "-c", "x.c", "-o", "x.o"])
        .env_remove("PYREWRITE_TEST_X");
    match caller_node_path {
        Some(v) => cmd.env("NODE_PATH", v),
        None => cmd.env_remove("NODE_PATH"),
    };
    assert_ok(&run(&mut cmd), function);
    let events = s.session.events();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == Action::Rewrite)
            .count(),
        1,
        "{events:#?}"
    );
    let seen = seen(&s.dir);
    assert_eq!(seen.len(), 1, "fake emcc ran once: {seen:?}");
    assert_eq!(
        std::fs::read_to_string(s.dir.join("x.o")).unwrap(),
        "fake-wasm\n"
    );
    seen[0].clone()
}

#[test]
fn execve_rewrite_gets_the_profile_env_prepended_to_the_callers_node_path() {
    assert_eq!(
        compile_with("execve", "/usr/bin/gcc", Some("/caller/lib")),
        "/profile/nodejs:/caller/lib|from-profile|"
    );
}

#[test]
fn execvp_rewrite_without_a_caller_node_path_gets_the_profile_value() {
    assert_eq!(
        compile_with("execvp", "gcc", None),
        "/profile/nodejs|from-profile|"
    );
}

#[test]
fn posix_spawn_rewrites_get_the_profile_env() {
    assert_eq!(
        compile_with("posix_spawn", "/usr/bin/gcc", Some("/caller/lib")),
        "/profile/nodejs:/caller/lib|from-profile|"
    );
    assert_eq!(
        compile_with("posix_spawnp", "gcc", Some("")),
        "/profile/nodejs|from-profile|"
    );
}

#[test]
fn a_caller_value_of_another_variable_is_replaced() {
    let s = setup("env-replace");
    let out = run(s
        .session
        .command(&s.exec_each)
        .args(["execv", "/usr/bin/gcc", "gcc", "-c", "x.c", "-o", "x.o"])
        .env("PYREWRITE_TEST_X", "from-caller")
        .env_remove("NODE_PATH"));
    assert_ok(&out, "execv");
    assert_eq!(seen(&s.dir), ["/profile/nodejs|from-profile|"]);
}

#[test]
fn passthrough_execs_keep_the_callers_environment() {
    let s = setup("env-passthrough");
    // A shell (passthrough) runs a non-compiler (passthrough) and a compile
    // (rewrite) in the same session.
    let out = run(s
        .session
        .command(&s.exec_each)
        .args([
            "execve",
            "/bin/sh",
            "sh",
            "-c",
            r#"printf '%s|%s\n' "${NODE_PATH-unset}" "${PYREWRITE_TEST_X-unset}";
               /usr/bin/env | grep -c '^PYREWRITE_TEST_X=' || true;
               gcc -c x.c -o x.o"#,
        ])
        .env("NODE_PATH", "/caller/lib")
        .env_remove("PYREWRITE_TEST_X"));
    assert_ok(&out, "sh -c");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout, "/caller/lib|unset\n0\n", "passthrough env changed");
    assert_eq!(seen(&s.dir), ["/profile/nodejs:/caller/lib|from-profile|"]);
    let events = s.session.events();
    let env_event = events.iter().find(|e| e.path == "/usr/bin/env").unwrap();
    assert_eq!(env_event.action, Action::Passthrough);
}
