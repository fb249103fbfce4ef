//! Safety of code that runs inside every process of someone's build: failing
//! execs behave exactly as without the preload, threads do not deadlock or
//! lose events, processes that never exec are untouched, nothing is printed
//! unless asked, and a broken profile refuses instead of compiling natively.

mod common;

use common::*;
use pyrewrite_protocol::Action;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ALL_EXECS: &[&str] = &[
    "execve",
    "execv",
    "execvp",
    "execvpe",
    "execl",
    "execlp",
    "execle",
    "execveat",
    "posix_spawn",
    "posix_spawnp",
];

/// (exit code, stdout) of `exec_each` with and without the preload.
fn both_ways(s: &Session, exec_each: &Path, args: &[&str], env_path: &str) -> (Output, Output) {
    let with = run(s.command(exec_each).args(args).env("PATH", env_path));
    let without = run(Command::new(exec_each)
        .args(args)
        .current_dir(&s.dir)
        .env("PATH", env_path)
        .env_remove("LD_PRELOAD"));
    (with, without)
}

fn setup(name: &str) -> (PathBuf, Session, PathBuf) {
    let dir = scratch(name);
    let emcc = FakeEmcc::new(&dir);
    let target = emcc.target(&dir);
    let exec_each = build_c_fixture("exec_each.c", &dir);
    (dir.clone(), Session::new(&dir, Some(target)), exec_each)
}

#[test]
fn failing_execs_return_the_same_status_and_errno_with_and_without_preload() {
    let (dir, s, exec_each) = setup("errno");
    // EACCES: not executable. ENOEXEC: executable garbage. Both also on PATH.
    write(&dir, "noexec", "#!/bin/sh\necho never\n");
    let garbage = write(&dir, "garbage", "\x01\x02\x03 not a program\n");
    set_mode(&garbage, 0o755);
    let bin = dir.join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::fs::copy(dir.join("noexec"), bin.join("noexec")).unwrap();
    let path = format!("{}:/nonexistent:/usr/bin:/bin", bin.display());
    let noexec = dir.join("noexec").display().to_string();
    let garbage = garbage.display().to_string();
    let cases: Vec<(String, Vec<String>)> = {
        let mut v = Vec::new();
        for f in ALL_EXECS {
            let searches = matches!(*f, "execvp" | "execvpe" | "execlp" | "posix_spawnp");
            v.push((
                format!("{f} ENOENT"),
                strings(&[f, "/nonexistent/gcc", "gcc", "-c"]),
            ));
            v.push((format!("{f} EACCES"), strings(&[f, &noexec, "noexec"])));
            v.push((format!("{f} ENOEXEC"), strings(&[f, &garbage, "garbage"])));
            v.push((format!("{f} E2BIG"), strings(&[f, "/bin/true", "@huge"])));
            v.push((format!("{f} EFAULT"), strings(&[f, "@null", "gcc"])));
            if searches {
                v.push((
                    format!("{f} PATH ENOENT"),
                    strings(&[f, "no-such-gcc", "gcc"]),
                ));
                v.push((
                    format!("{f} PATH EACCES"),
                    strings(&[f, "noexec", "noexec"]),
                ));
                v.push((format!("{f} empty"), strings(&[f, "", "gcc"])));
            }
        }
        v.push((
            "fexecve EACCES".into(),
            strings(&["fexecve", &noexec, "noexec"]),
        ));
        v.push((
            "fexecve ENOEXEC".into(),
            strings(&["fexecve", &garbage, "garbage"]),
        ));
        v
    };
    for (what, args) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (with, without) = both_ways(&s, &exec_each, &args, &path);
        assert_eq!(
            with.status.code(),
            without.status.code(),
            "{what}: exit status"
        );
        assert_eq!(
            String::from_utf8_lossy(&with.stdout),
            String::from_utf8_lossy(&without.stdout),
            "{what}: stdout (ret and errno)"
        );
        assert_ne!(
            with.status.code(),
            Some(0),
            "{what}: the case must really fail"
        );
    }
    // Failed PATH probes and failures before the exec produced no compiler event.
    let events = s.events();
    assert!(
        events.iter().all(|e| e.action == Action::Passthrough),
        "{events:#?}"
    );
    assert!(
        events
            .iter()
            .all(|e| !e.path.contains("nonexistent") && !e.path.ends_with("noexec")),
        "no event for execs that fail their look-up: {events:#?}"
    );
}

/// errno after `posix_spawn`/`posix_spawnp` is exactly what libc leaves,
/// success or failure: for a PATH search, the errno of the failed candidates
/// before the hit (glibc's search runs in a child sharing the caller's
/// memory), and nothing of what the hook does afterwards (reporting, the
/// profile, a compiler call's response files).
#[test]
fn errno_after_posix_spawn_is_what_libc_leaves() {
    let (dir, s, _) = setup("spawn-errno");
    let prog = build_c_fixture("spawn_errno.c", &dir);
    write(&dir, "x.c", "int x;\n");
    let direct = "/usr/bin:/bin".to_string();
    // Missing directories first: the look-up probes them (ENOENT).
    let missing_first = format!("{d}/missing1:{d}/missing2:/usr/bin:/bin", d = dir.display());
    let cases: &[&[&str]] = &[
        &["posix_spawnp", "true", "true"],
        &["posix_spawnp", "gcc", "gcc", "-c", "x.c", "-o", "x.o"],
        // A compiler call whose response file is missing: the rules' read
        // of it fails (ENOENT) inside the hook.
        &["posix_spawnp", "gcc", "gcc", "-c", "x.c", "@missing.rsp"],
        &["posix_spawnp", "gcc", "gcc", "-print-multiarch"],
        &["posix_spawnp", "no-such-program", "no-such-program"],
        &["posix_spawn", "/bin/true", "true"],
        &[
            "posix_spawn",
            "/usr/bin/gcc",
            "gcc",
            "-c",
            "x.c",
            "@missing.rsp",
        ],
        &["posix_spawn", "/nonexistent/gcc", "gcc"],
    ];
    // The line the fixture prints (a child may print before it).
    let rc_line = |o: &Output| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .find(|l| l.starts_with("rc="))
            .map(String::from)
    };
    let (mut kept, mut enoent) = (false, false);
    for path in [&direct, &missing_first] {
        for args in cases {
            let (with, without) = both_ways(&s, &prog, args, path);
            let expected = rc_line(&without);
            assert!(expected.is_some(), "{args:?}: {without:?}");
            assert_eq!(rc_line(&with), expected, "{args:?} with PATH={path}");
            let errno_is = |e: i32| {
                expected
                    .as_deref()
                    .is_some_and(|l| l.ends_with(&format!(" errno={e}")))
            };
            kept |= errno_is(libc::EDOM);
            enoent |= errno_is(libc::ENOENT);
        }
    }
    // Both outcomes occur, so both are compared: the caller's errno kept,
    // and libc's search leaving ENOENT.
    assert!(kept && enoent, "kept: {kept}, ENOENT: {enoent}");
    let events = s.events();
    assert!(
        events.iter().any(|e| e.action == Action::Rewrite),
        "a compile was rewritten: {events:#?}"
    );
}

#[test]
fn sixteen_threads_spawning_compilers_lose_no_event() {
    let dir = scratch("threads");
    let emcc = FakeEmcc::new(&dir);
    let s = Session::new(&dir, Some(emcc.target(&dir)));
    for i in 0..16 {
        write(&dir, &format!("t{i}.c"), "int t;\n");
    }
    let prog = build_c_fixture("threads_spawn.c", &dir);
    let out = run(s.command(&prog).arg("gcc"));
    assert_ok(&out, "threads_spawn");
    let events = s.events();
    let rewrites: Vec<_> = events
        .iter()
        .filter(|e| e.action == Action::Rewrite)
        .collect();
    assert_eq!(rewrites.len(), 16, "{events:#?}");
    let mut srcs: Vec<&str> = rewrites.iter().map(|e| e.argv[2].as_str()).collect();
    srcs.sort();
    srcs.dedup();
    assert_eq!(srcs.len(), 16);
    assert_eq!(emcc.calls().len(), 16);
}

#[test]
fn a_process_that_never_execs_is_unaffected() {
    let dir = scratch("no-exec");
    let s = Session::new(&dir, None);
    let prog = build_c_fixture("no_exec.c", &dir);
    let with = run(&mut s.command(&prog));
    let without = run(Command::new(&prog).env_remove("LD_PRELOAD"));
    assert_eq!(with.status.code(), Some(7));
    assert_eq!(with.status.code(), without.status.code());
    assert_eq!(with.stdout, without.stdout);
    assert!(
        with.stderr.is_empty(),
        "silent: {:?}",
        String::from_utf8_lossy(&with.stderr)
    );
    assert!(!s.events.exists(), "no exec, no event, no log file");
}

#[test]
fn silent_unless_debug() {
    let (_dir, s, exec_each) = setup("debug");
    let quiet = run(s.command(&exec_each).args(["execvp", "true", "true"]));
    assert_ok(&quiet, "true");
    assert!(
        quiet.stderr.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&quiet.stderr)
    );
    let loud = run(s
        .command(&exec_each)
        .args(["execvp", "true", "true"])
        .env(pyrewrite_protocol::env::DEBUG, "1"));
    assert_ok(&loud, "true with debug");
    let err = String::from_utf8_lossy(&loud.stderr);
    assert!(
        err.contains("pyrewrite: execvp") && err.contains("passthrough"),
        "{err}"
    );
}

#[test]
fn broken_target_profile_refuses_compiles_but_not_other_programs() {
    let (dir, mut s, exec_each) = setup("bad-target");
    write(&dir, "x.c", "int x;\n");
    let bad = write(&dir, "bad.json", "{ not json");
    s.target = Some(bad.clone());
    for f in ["execve", "posix_spawn"] {
        let out = run(s
            .command(&exec_each)
            .args([f, "/usr/bin/gcc", "gcc", "-c", "x.c"]));
        assert_eq!(out.status.code(), Some(1), "{f}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("pyrewrite: error: target profile")
                && err.contains(bad.to_str().unwrap())
                && err.contains("pyrewrite target from-pyodide"),
            "{f}: names the file and the problem: {err}"
        );
        assert!(!dir.join("x.o").exists(), "nothing compiled natively");
    }
    let events = s.events();
    assert_eq!(events.len(), 2);
    assert!(events
        .iter()
        .all(|e| e.action == Action::Refuse && e.reason.is_some()));
    let out = run(s.command(&exec_each).args(["execvp", "echo", "echo", "ok"]));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
}

#[test]
fn trace_mode_rewrites_nothing_and_reports_the_tool() {
    let (dir, mut s, exec_each) = setup("trace");
    write(&dir, "x.c", "int x;\n");
    s.mode = Some("trace");
    let out = run(s
        .command(&exec_each)
        .args(["execvp", "gcc", "gcc", "-c", "x.c", "-o", "x.o"]));
    assert_ok(&out, "native gcc under trace");
    let obj = std::fs::read(dir.join("x.o")).unwrap();
    assert_eq!(
        &obj[..4],
        b"\x7fELF",
        "native object: nothing was rewritten"
    );
    let events = s.events();
    let gcc: Vec<_> = events
        .iter()
        .filter(|e| e.tool.as_deref() == Some("cc"))
        .collect();
    assert_eq!(gcc.len(), 1, "{events:#?}");
    assert_eq!(gcc[0].action, Action::Passthrough);
    assert_eq!(gcc[0].new_argv, None);
    // gcc's own children (cc1, as, collect2) are reported too.
    assert!(
        events.iter().any(|e| e.path.ends_with("/cc1")),
        "{events:#?}"
    );
}

#[test]
fn a_panic_inside_a_hook_aborts_with_a_message_and_never_unwinds_into_c() {
    // Debug builds of the library panic on this argv[0] (see exec.rs). The
    // library is no_std with panic=abort: the panic handler names the place
    // and aborts the calling process; nothing unwinds into the C caller.
    use std::os::unix::process::ExitStatusExt;
    let (_dir, s, exec_each) = setup("panic");
    for f in ["execv", "posix_spawn"] {
        let out = run(s.command(&exec_each).args([
            f,
            "/bin/echo",
            "@pyrewrite-test-panic",
            "never",
            "runs",
        ]));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.signal(), Some(libc::SIGABRT), "{f}: {stderr}");
        assert!(
            stderr.contains("pyrewrite: internal error at ") && stderr.contains("exec.rs:"),
            "{f}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{f}: nothing ran");
    }
    assert!(s.events().is_empty(), "the panic came before reporting");
}

#[test]
fn an_emcc_that_cannot_run_never_falls_back_to_the_native_compiler() {
    let (dir, mut s, exec_each) = setup("emcc-broken");
    write(&dir, "x.c", "int x;\n");
    let broken = write(&dir, "broken-emcc", "\x01\x02 not a program\n");
    set_mode(&broken, 0o755);
    let target = write(
        &dir,
        "broken.json",
        // The fast path off: this test is about the exec of emcc itself
        // (with it on, pyrewrite-cc runs and reports emcc's failure).
        &serde_json::json!({"emcc": broken, "emxx": broken, "fast_path": "off"}).to_string(),
    );
    s.target = Some(target);
    for f in ["execvp", "execlp", "posix_spawnp", "execve"] {
        let out = run(s
            .command(&exec_each)
            .args([f, "gcc", "gcc", "-c", "x.c", "-o", "x.o"])
            .env("PATH", "/usr/bin:/bin"));
        let stdout = String::from_utf8_lossy(&out.stdout);
        if f == "execve" {
            // execve does not search PATH: "gcc" relative to cwd does not exist.
            assert!(stdout.contains("errno=2"), "{f}: {stdout}");
        } else {
            assert!(
                stdout.contains("FAILED") && stdout.contains("=8"),
                "{f}: ENOEXEC from emcc: {stdout}"
            );
        }
        assert!(
            !dir.join("x.o").exists(),
            "{f}: the native compiler must not run"
        );
    }
}

/// `(dynamic symbols defined, libraries needed)` of the built library, from `readelf`.
fn dynamic_symbols_and_needed(lib: &Path) -> (Vec<String>, Vec<String>) {
    let out = Command::new("readelf")
        .args(["--dyn-syms", "--dynamic", "-W"])
        .arg(lib)
        .output()
        .expect("readelf (binutils) runs");
    assert!(out.status.success(), "readelf {}", lib.display());
    let text = String::from_utf8_lossy(&out.stdout);
    let mut defined = Vec::new();
    let mut needed = Vec::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        // Symbol rows: Num: Value Size Type Bind Vis Ndx Name
        if cols.len() >= 8 && cols[0].ends_with(':') && cols[6] != "UND" && cols[4] == "GLOBAL" {
            defined.push(cols[7].split('@').next().unwrap_or("").to_string());
        }
        if line.contains("(NEEDED)") {
            if let Some(name) = line.split('[').nth(1) {
                needed.push(name.trim_end_matches(']').to_string());
            }
        }
    }
    defined.sort();
    (defined, needed)
}

#[test]
fn the_library_exports_only_the_hooks_and_needs_only_libc() {
    // Anything else exported would interpose on the whole process: e.g. the
    // unwinder stand-ins of src/no_unwind.c must stay local, or every C++
    // program of the build would call our `_Unwind_Resume`.
    let (defined, needed) = dynamic_symbols_and_needed(&preload_lib());
    let mut hooks: Vec<String> = ALL_EXECS
        .iter()
        .chain(&["fexecve", "system", "popen", "pyrewrite_execl_family"])
        .map(|s| s.to_string())
        .collect();
    hooks.sort();
    assert_eq!(defined, hooks);
    // No std, no unwinder: nothing but libc to find and map in every process.
    assert_eq!(needed, ["libc.so.6"]);
}

#[test]
fn a_cancelled_thread_unwinds_through_our_hooks() {
    // pthread_cancel unwinds by force through every frame, ours included:
    // no_std has no unwinder of its own, so our frames must let it pass as C
    // frames do (src/no_unwind.c), or the whole process would abort.
    let dir = scratch("cancel");
    let prog = build_c_fixture("cancel_in_system.c", &dir);
    let s = Session::new(&dir, None);
    let out = run(&mut s.command(&prog));
    assert_ok(&out, "cancel_in_system");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "joined canceled\n");
    let events = s.events();
    assert!(
        events.iter().any(|e| e.function == "system"),
        "the hook ran: {events:#?}"
    );
}
