//! One profile, found the same way by everything (docs/target.md, "Where the
//! profile is"): `--target`, else `$PYREWRITE_TARGET`, else the user's
//! default profile `$XDG_CONFIG_HOME/pyrewrite/target.json` (else
//! `~/.config/pyrewrite/target.json`), which `pyrewrite target from-pyodide`
//! writes without `-o`. Without any profile every compiler call is refused
//! with a message naming the file and the command that makes one.
//!
//! Every test points `XDG_CONFIG_HOME` (and, where it matters, `HOME`) at a
//! scratch directory: the user's real ~/.config is never read or written.

mod common;

use common::*;
use pyrewrite_protocol::Action;
use std::path::Path;
use std::process::Command;

/// A fake emcc that writes its name to `<dir>/ran-<name>` and the `-o` output.
fn named_emcc(dir: &Path, name: &str) -> String {
    let path = dir.join(format!("emcc-{name}"));
    let script = format!(
        "#!/bin/sh\ntouch \"{}/ran-{name}\"\nout=\"\"; prev=\"\"\n\
         for a in \"$@\"; do [ \"$prev\" = \"-o\" ] && out=\"$a\"; prev=\"$a\"; done\n\
         [ -n \"$out\" ] && echo fake-wasm > \"$out\"\nexit 0\n",
        dir.display()
    );
    std::fs::write(&path, script).unwrap();
    set_mode(&path, 0o755);
    path.to_string_lossy().into_owned()
}

fn profile_json(emcc: &str) -> String {
    serde_json::json!({"emcc": emcc, "emxx": emcc}).to_string()
}

#[test]
fn without_any_profile_every_compiler_call_is_refused_with_the_way_out() {
    let dir = scratch("no-profile");
    write(&dir, "x.c", "int x;\n");
    write(&dir, "y.cpp", "int y;\n");
    let s = Session::new(&dir, None);
    let default = s.config_home.join("pyrewrite/target.json");
    for cmd in [
        "gcc -c x.c -o x.o",
        "cc -c x.c -o x.o",
        "x86_64-linux-gnu-gcc -c x.c -o x.o",
        "g++ -c y.cpp -o y.o",
        "ar rcs libx.a x.c",
    ] {
        let out = run(s.command("sh").arg("-c").arg(cmd));
        assert_eq!(out.status.code(), Some(1), "{cmd}: {out:?}");
        let err = stderr_of(&out);
        assert!(
            err.contains(&format!(
                "pyrewrite: error: no target profile: {} does not exist",
                default.display()
            )),
            "{cmd}: {err}"
        );
        assert!(
            err.contains("make it with `pyrewrite target from-pyodide PYODIDE_DIR`")
                && err.contains("npm install pyodide@0.23.4"),
            "{cmd}: {err}"
        );
        assert!(!err.contains("Python.h"), "{cmd}: {err}");
        assert!(!dir.join("x.o").exists() && !dir.join("y.o").exists());
        assert!(!dir.join("libx.a").exists(), "nothing ran natively");
    }
    let events = s.events();
    let refused: Vec<_> = events
        .iter()
        .filter(|e| e.action == Action::Refuse)
        .collect();
    assert_eq!(refused.len(), 5, "{events:#?}");
    assert!(refused[0]
        .reason
        .as_deref()
        .unwrap()
        .contains("no target profile"));
    // Programs that are not compilers run as always.
    let out = run(s.command("sh").arg("-c").arg("echo still-fine"));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "still-fine\n");

    // No XDG_CONFIG_HOME and no HOME either: nowhere to look, said so.
    let out = run(s
        .command("sh")
        .arg("-c")
        .arg("gcc -c x.c -o x.o")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("HOME"));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(
        err.contains("PYREWRITE_TARGET is not set, and neither XDG_CONFIG_HOME nor HOME is"),
        "{err}"
    );
    assert!(!dir.join("x.o").exists());
}

#[test]
fn the_preload_reads_the_variable_before_the_default_profile() {
    let dir = scratch("preload-order");
    write(&dir, "x.c", "int x;\n");
    let mut s = Session::new(&dir, None);
    s.write_default_profile(&profile_json(&named_emcc(&dir, "default")));
    let out = run(s.command("sh").arg("-c").arg("gcc -c x.c -o x.o"));
    assert_ok(&out, "gcc with the default profile");
    assert!(dir.join("ran-default").exists());

    s.target = Some(write(
        &dir,
        "env.json",
        &profile_json(&named_emcc(&dir, "env")),
    ));
    let out = run(s.command("sh").arg("-c").arg("gcc -c x.c -o x.o"));
    assert_ok(&out, "gcc with PYREWRITE_TARGET");
    assert!(dir.join("ran-env").exists());

    // HOME's ~/.config is the default when XDG_CONFIG_HOME is unset.
    let home = dir.join("home");
    write_default_profile(
        &home.join(".config"),
        &profile_json(&named_emcc(&dir, "home")),
    );
    s.target = None;
    let out = run(s
        .command("sh")
        .arg("-c")
        .arg("gcc -c x.c -o x.o")
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", &home));
    assert_ok(&out, "gcc with ~/.config/pyrewrite/target.json");
    assert!(dir.join("ran-home").exists());
}

#[test]
fn run_takes_the_flag_then_the_variable_then_the_default() {
    let s = TempDir::new("run-order");
    s.write("x.c", "int x;\n");
    let xdg = s.path().join("xdg");
    write_default_profile(&xdg, &profile_json(&named_emcc(s.path(), "default")));
    let env_profile = s.write("env.json", &profile_json(&named_emcc(s.path(), "env")));
    let flag_profile = s.write("flag.json", &profile_json(&named_emcc(s.path(), "flag")));
    let build = ["--", "sh", "-c", "gcc -c x.c -o x.o"];
    let run_build = |extra: &[&str], env: Option<&Path>| {
        let mut c = pyrewrite_session("run");
        c.args(["--quiet", "--no-verify"])
            .args(extra)
            .args(build)
            .env("XDG_CONFIG_HOME", &xdg);
        match env {
            Some(p) => c.env("PYREWRITE_TARGET", p),
            None => c.env_remove("PYREWRITE_TARGET"),
        };
        let out = run_in(s.path(), &mut c);
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    };
    run_build(&[], None);
    assert!(s.path().join("ran-default").exists());
    run_build(&[], Some(&env_profile));
    assert!(s.path().join("ran-env").exists());
    run_build(
        &["--target", flag_profile.to_str().unwrap()],
        Some(&env_profile),
    );
    assert!(s.path().join("ran-flag").exists());
}

#[test]
fn trace_names_the_profile_run_would_use_or_warns() {
    let s = TempDir::new("trace-profile");
    let xdg = s.path().join("xdg");
    let trace = |extra: &[&str]| {
        let mut c = pyrewrite_session("trace");
        c.args(extra)
            .args(["--", "true"])
            .env_remove("PYREWRITE_TARGET")
            .env("XDG_CONFIG_HOME", &xdg);
        run_in(s.path(), &mut c)
    };
    let out = trace(&[]);
    assert_eq!(out.status.code(), Some(0));
    let err = stderr_of(&out);
    assert!(
        err.contains("pyrewrite: warning: `pyrewrite run` would fail: no target profile"),
        "{err}"
    );
    let default = write_default_profile(&xdg, "{}");
    let out = trace(&[]);
    let err = stderr_of(&out);
    assert!(
        err.contains(&format!(
            "pyrewrite: target profile {} (the default profile)",
            default.display()
        )),
        "{err}"
    );
    // A --target that cannot be read is an error, before anything runs.
    let out = trace(&["--target", "/nonexistent/t.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("/nonexistent/t.json does not exist (from --target)"));
}

#[test]
fn from_pyodide_without_o_writes_the_default_profile_that_every_command_finds() {
    let s = TempDir::new("default-profile");
    let xdg = s.path().join("xdg");
    let cmd = |c: &mut Command| {
        c.env_remove("PYREWRITE_TARGET")
            .env("XDG_CONFIG_HOME", &xdg)
            .current_dir(s.path());
    };
    let mut make = driver();
    make.args(["target", "from-pyodide"])
        .arg(pyodide_dist())
        .arg("--cache-dir")
        .arg(artifact_dir().join("test-scratch/from-pyodide-cache"));
    cmd(&mut make);
    let out = run(&mut make);
    assert_ok(&out, "target from-pyodide without -o");
    let default = xdg.join("pyrewrite/target.json");
    let profile = read_json(&default);
    assert!(
        stderr_of(&out).contains("this is the default profile"),
        "{}",
        stderr_of(&out)
    );
    let include = profile["python_include"].as_str().unwrap().to_string();
    let emcc = profile["emcc"].as_str().unwrap().to_string();

    // explain
    let mut explain = driver();
    explain.args([
        "explain",
        "--json",
        "--",
        "gcc",
        "-I/usr/include/python3.11",
        "-c",
        "x.c",
    ]);
    cmd(&mut explain);
    let out = run(&mut explain);
    assert_ok(&out, "explain with the default profile");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["argv"][0], emcc.as_str());
    assert_eq!(v["argv"][1], format!("-I{include}"));

    // the preload, alone (real emcc)
    s.write("hello.c", "int hello(void) { return 42; }\n");
    let mut session = Session::new(s.path(), None);
    session.config_home = xdg.clone();
    let out = run(session
        .command("sh")
        .arg("-c")
        .arg("gcc -c hello.c -o hello.o"));
    assert_ok(&out, "gcc under the preload with the default profile");
    assert_eq!(
        &std::fs::read(s.path().join("hello.o")).unwrap()[..4],
        b"\0asm"
    );

    // run
    let mut run_cmd = pyrewrite_session("run");
    run_cmd.args(["--", "sh", "-c", "gcc -c hello.c -o hello2.o"]);
    cmd(&mut run_cmd);
    let out = run(&mut run_cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("1 rewritten"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(
        &std::fs::read(s.path().join("hello2.o")).unwrap()[..4],
        b"\0asm"
    );

    // verify: the runtime is the default profile's pyodide_dir (an object
    // file is no side module: a finding, exit 1, not a usage error).
    std::fs::copy(s.path().join("hello.o"), s.path().join("hello.wasm")).unwrap();
    let mut verify = driver();
    verify.args(["verify", "hello.wasm"]);
    cmd(&mut verify);
    let out = run(&mut verify);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr_of(&out));
    assert!(
        text.contains(&format!("runtime: {}", pyodide_dist().display())),
        "{text}"
    );
}
