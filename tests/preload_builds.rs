//! Real build tools and process trees under the preload: Python subprocess
//! (vfork + its own PATH walk), os.system, GNU make -j8, ninja, a shell
//! script, and `env -i` in the middle of the tree.

mod common;

use common::*;
use pyrewrite_protocol::{Action, Event};
use std::path::{Path, PathBuf};

fn setup(name: &str) -> (PathBuf, FakeEmcc, Session) {
    let dir = scratch(name);
    let emcc = FakeEmcc::new(&dir);
    let target = emcc.target(&dir);
    let session = Session::new(&dir, Some(target));
    (dir, emcc, session)
}

fn rewrites(events: &[Event]) -> Vec<&Event> {
    events
        .iter()
        .filter(|e| e.action == Action::Rewrite)
        .collect()
}

/// Every rewrite event was run by the fake emcc, with the event's new argv.
fn assert_rewrites_ran(events: &[Event], emcc: &FakeEmcc, expected: usize) {
    let rw = rewrites(events);
    assert_eq!(rw.len(), expected, "rewrite events: {events:#?}");
    let mut calls: Vec<Vec<String>> = emcc.calls().into_iter().map(|c| c.args).collect();
    let mut from_events: Vec<Vec<String>> = rw
        .iter()
        .map(|e| e.new_argv.clone().unwrap()[1..].to_vec())
        .collect();
    calls.sort();
    from_events.sort();
    assert_eq!(calls, from_events);
}

fn sources(dir: &Path, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            write(dir, &format!("s{i}.c"), &format!("int s{i};\n"));
            format!("s{i}")
        })
        .collect()
}

#[test]
fn python_subprocess_vfork_path_walk_reports_only_the_real_exec() {
    let (dir, emcc, s) = setup("py-subprocess");
    write(&dir, "x.c", "int x;\n");
    // Missing directories first: CPython probes each with execv in a vfork child.
    let path = format!(
        "{d}/nope1:{d}/nope2:/nonexistent:{}",
        std::env::var("PATH").unwrap(),
        d = dir.display()
    );
    let script = "import subprocess\n\
                  subprocess.run(['gcc', '-c', 'x.c', '-o', 'x.o'], check=True)\n\
                  subprocess.run(['sh', '-c', 'gcc -c x.c -o y.o'], env={'PATH': '/usr/bin:/bin'}, check=True)\n";
    let out = run(s
        .command("python3")
        .arg("-c")
        .arg(script)
        .env("PATH", &path));
    assert_ok(&out, "python subprocess");
    let events = s.events();
    assert!(
        events
            .iter()
            .all(|e| !e.path.contains("/nope") && !e.path.starts_with("/nonexistent")),
        "failed PATH probes must not be reported: {events:#?}"
    );
    let rw = rewrites(&events);
    assert_eq!(rw.len(), 2, "{events:#?}");
    assert!(
        rw.iter()
            .any(|e| e.function == "execv" || e.function == "execve"),
        "CPython execs with execv/execve: {rw:#?}"
    );
    assert_rewrites_ran(&events, &emcc, 2);
    // The second compile ran under env={'PATH': ...}: survival restored the session.
    assert!(dir.join("y.o").is_file());
}

#[test]
fn python_os_system_is_reported_and_rewritten() {
    let (dir, emcc, s) = setup("py-system");
    write(&dir, "x.c", "int x;\n");
    let out = run(s.command("python3").arg("-c").arg(
        "import os, sys; sys.exit(os.waitstatus_to_exitcode(os.system('gcc -c x.c -o x.o')))",
    ));
    assert_ok(&out, "os.system");
    let events = s.events();
    assert!(
        events
            .iter()
            .any(|e| e.function == "system" && e.argv[2] == "gcc -c x.c -o x.o"),
        "{events:#?}"
    );
    assert_rewrites_ran(&events, &emcc, 1);
}

#[test]
fn gnu_make_j8_rewrites_every_compile() {
    let (dir, emcc, s) = setup("make-j8");
    let names = sources(&dir, 8);
    let objs: Vec<String> = names.iter().map(|n| format!("{n}.o")).collect();
    write(
        &dir,
        "Makefile",
        &format!("all: {}\n%.o: %.c\n\tgcc -c $< -o $@\n", objs.join(" ")),
    );
    let out = run(s.command("make").arg("-j8"));
    assert_ok(&out, "make -j8");
    let events = s.events();
    assert_rewrites_ran(&events, &emcc, 8);
    for o in &objs {
        assert_eq!(std::fs::read_to_string(dir.join(o)).unwrap(), "fake-wasm\n");
    }
}

#[test]
fn ninja_rewrites_every_compile() {
    let (dir, emcc, s) = setup("ninja");
    let names = sources(&dir, 4);
    let mut ninja = String::from("rule cc\n  command = gcc -c $in -o $out\n");
    for n in &names {
        ninja.push_str(&format!("build {n}.o: cc {n}.c\n"));
    }
    write(&dir, "build.ninja", &ninja);
    let out = run(s.command("ninja").arg("-j4"));
    assert_ok(&out, "ninja");
    let events = s.events();
    assert!(
        events.iter().any(|e| e.function.starts_with("posix_spawn")),
        "ninja starts its commands with posix_spawn: {events:#?}"
    );
    assert_rewrites_ran(&events, &emcc, 4);
}

#[test]
fn shell_script_compiles_are_rewritten() {
    let (dir, emcc, s) = setup("shell-script");
    sources(&dir, 2);
    write(
        &dir,
        "build.sh",
        "set -e\ngcc -c s0.c -o s0.o\nif cc -c s1.c -o s1.o; then echo built; fi\n",
    );
    let out = run(s.command("sh").arg("build.sh"));
    assert_ok(&out, "sh build.sh");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "built\n");
    assert_rewrites_ran(&s.events(), &emcc, 2);
}

#[test]
fn env_i_in_the_middle_of_the_tree_does_not_escape() {
    let (dir, emcc, mut s) = setup("env-i");
    write(&dir, "x.c", "int x;\n");
    s.extra_preload = Some("libm.so.6".into());
    let out = run(s.command("sh").arg("-c").arg(
        "env -i /bin/sh -c 'gcc -c x.c -o x.o && echo \"$LD_PRELOAD\" && echo \"$PYREWRITE_EVENTS\"'",
    ));
    assert_ok(&out, "env -i");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut lines = stdout.lines();
    let preload = lines.next().unwrap_or_default();
    assert!(
        preload.contains("libpyrewrite.so"),
        "preload restored: {stdout}"
    );
    assert!(
        !preload.contains("libm.so.6"),
        "env -i cleared the other entry; we restore only ours: {stdout}"
    );
    assert_eq!(lines.next(), Some(s.events.to_str().unwrap()));
    let events = s.events();
    assert_rewrites_ran(&events, &emcc, 1);
    // The rewritten compiler keeps other preload entries but not ours.
    let (_d2, emcc2, mut s2) = setup("env-keep-other");
    write(&s2.dir, "x.c", "int x;\n");
    s2.extra_preload = Some("libm.so.6".into());
    let out = run(s2.command("sh").arg("-c").arg("gcc -c x.c -o x.o"));
    assert_ok(&out, "gcc with another preload");
    let calls = emcc2.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].ld_preload, "libm.so.6");
}

#[test]
fn env_i_keeps_an_other_preload_it_sets() {
    let (dir, _emcc, s) = setup("env-i-other");
    let out = run(s
        .command("env")
        .args([
            "-i",
            "LD_PRELOAD=libm.so.6",
            "/bin/sh",
            "-c",
            "echo \"$LD_PRELOAD\"",
        ])
        .current_dir(&dir));
    assert_ok(&out, "env -i LD_PRELOAD=libm");
    let line = String::from_utf8_lossy(&out.stdout);
    let entries: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(entries.len(), 2, "{line}");
    assert!(entries[0].ends_with("libpyrewrite.so"), "{line}");
    assert_eq!(entries[1], "libm.so.6");
}

#[test]
fn a_renamed_copy_of_the_library_is_restored_once_and_stripped_for_emcc() {
    let (dir, emcc, s) = setup("renamed");
    write(&dir, "x.c", "int x;\n");
    let copy = dir.join("renamed-preload.so");
    std::fs::copy(preload_lib(), &copy).unwrap();
    let out = run(s
        .command("sh")
        .arg("-c")
        .arg("env -i /bin/sh -c 'env -i /bin/sh -c \"echo \\$LD_PRELOAD\"; gcc -c x.c -o x.o'")
        .env("LD_PRELOAD", &copy));
    assert_ok(&out, "renamed preload");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        copy.to_str().unwrap(),
        "restored once, not once per generation"
    );
    let calls = emcc.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].ld_preload, "",
        "recursion guard recognises the renamed copy"
    );
}
