//! The preload inside odd processes: an exec from a signal handler on a
//! small alternate stack, a vfork child that must not allocate, a thread
//! cancelled while its exec is being reported (docs/preload.md, "A small,
//! fixed stack", "vfork children and threads"; RELIABILITY.md).

mod common;

use common::*;
use pyrewrite_protocol::Action;
use std::path::{Path, PathBuf};
use std::process::Command;

/// An executable file that is no program: an exec of it is reported
/// (it passes the executability check), then fails with ENOEXEC. A fixture
/// checked in with its mode, not written by the test: a file written while
/// another test's thread forks can be held open for writing by that child
/// for a moment, and an exec of it then fails with ETXTBSY.
fn not_a_program() -> PathBuf {
    let p = fixture("not-a-program");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&p).unwrap().permissions().mode();
    assert_eq!(mode & 0o111, 0o111, "{} must be executable", p.display());
    p
}

/// `sigaltstack_exec.c`, linked with `-z now`: the fixture's own calls are
/// bound at load, so what the alternate stack measures is the kernel's
/// signal frame and this library (whose lazy bindings are part of its cost).
fn build_sigaltstack_exec(dir: &Path) -> PathBuf {
    let out = dir.join("sigaltstack_exec");
    let status = Command::new("gcc")
        .args(["-O1", "-Wl,-z,now"])
        .arg(fixture("sigaltstack_exec.c"))
        .arg("-o")
        .arg(&out)
        .env_remove("LD_PRELOAD")
        .status()
        .expect("run gcc");
    assert!(status.success(), "gcc failed on sigaltstack_exec.c");
    out
}

/// Bytes of the alternate stack used, from the fixture's `used N` line.
fn used(stdout: &str) -> usize {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("used "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no `used N` line in {stdout:?}"))
}

#[test]
fn an_exec_from_a_signal_handler_fits_an_8_kib_alternate_stack() {
    // The first exec of the process, from the handler: every lazy binding
    // of the library is made there too (the deepest case).
    let dir = scratch("sigaltstack");
    let prog = build_sigaltstack_exec(&dir);
    let bad = not_a_program();
    let bad = bad.to_str().unwrap();
    let baseline = run(Command::new(&prog)
        .args(["8192", "baseline"])
        .env_remove("LD_PRELOAD"));
    assert_ok(&baseline, "handler without an exec");
    let frame = used(&String::from_utf8_lossy(&baseline.stdout));
    let mut figures = vec![format!("kernel signal frame and handler: {frame}")];
    // (mode, program, transport): every exec entry a handler may use, the
    // rebuilt-envp path, and the loss-counting path of the socket transport.
    let cases: &[(&str, &str, &str)] = &[
        ("vfork", "/bin/true", "events"),
        ("execvp", "/bin/true", "events"),
        ("spawn", "/bin/true", "events"),
        ("envi", "/bin/true", "events"),
        ("fail", bad, "events"),
        ("vfork", "/bin/true", "lost-socket"),
        ("fail", bad, "lost-socket"),
    ];
    for &(mode, program, transport) in cases {
        let s = Session::new(&dir, None);
        let _ = std::fs::remove_file(&s.events);
        let socket = dir.join("no-driver.sock");
        let lost = dir.join("no-driver.sock.lost");
        let _ = std::fs::remove_file(&lost);
        let mut cmd = s.command(&prog);
        cmd.args(["8192", mode, program]);
        if transport == "lost-socket" {
            cmd.env(pyrewrite_protocol::env::SOCKET, &socket);
        }
        let out = run(&mut cmd);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        // An overflow hits the guard page: death by SIGSEGV, or a vfork
        // child killed by it (then "exec from the handler failed").
        assert_ok(
            &out,
            &format!("{mode} {program} ({transport}) on an 8 KiB stack"),
        );
        assert!(stdout.contains("ok"), "{mode}: {stdout}");
        let n = used(&stdout);
        assert!(n <= 8192, "{mode}: {n}");
        figures.push(format!("{mode} ({transport}): {n}"));
        // The exec was reported (or, without a driver, counted as lost).
        if transport == "events" {
            let events = s.events();
            let e = events
                .iter()
                .find(|e| e.path.ends_with(program.trim_start_matches("/bin")))
                .unwrap_or_else(|| panic!("{mode}: no event for {program}: {events:#?}"));
            assert_eq!(e.action, Action::Passthrough);
        } else {
            let lost = std::fs::read(&lost).unwrap_or_default();
            assert_eq!(lost.len(), 1, "{mode}: one event counted as lost");
        }
    }
    eprintln!("bytes of an 8192-byte alternate stack used: {figures:#?}");
}

/// `(allocations, child's exit status)` from `vfork_malloc`.
fn allocations(s: &Session, prog: &Path, args: &[&str]) -> (u32, i32) {
    let out = run(s.command(prog).args(args));
    assert_ok(&out, &format!("vfork_malloc {}", args.join(" ")));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |name: &str| -> i64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {text:?}"))
    };
    (field("allocations ") as u32, field("status ") as i32)
}

#[test]
fn a_vfork_child_allocates_nothing_on_the_passthrough_path() {
    let dir = scratch("vfork-malloc");
    let emcc = FakeEmcc::new(&dir);
    let s = Session::new(&dir, Some(emcc.target(&dir)));
    let prog = build_c_fixture("vfork_malloc.c", &dir);
    // An argument longer than every stack buffer: the event line spills
    // (to a mapping, not the heap).
    let long = "x".repeat(100_000);
    let cases: &[&[&str]] = &[
        &["execve", "/bin/true"],
        &["execvp", "true"],
        &["envi", "/bin/true"],
        &["execve", "/bin/true", &long],
        &["execvp", "true", &long],
    ];
    for args in cases {
        let (n, status) = allocations(&s, &prog, args);
        assert_eq!(status, 0, "{}", args[0]);
        assert_eq!(n, 0, "{} {}: malloc in the vfork child", args[0], args[1]);
    }
    let events = s.events();
    assert_eq!(
        events.iter().filter(|e| e.path.ends_with("/true")).count(),
        5,
        "every exec reported: {events:#?}"
    );
    // The counter counts: a compiler call reads the profile and runs the
    // rules with heap memory (documented), in the vfork child too.
    write(&dir, "x.c", "int x;\n");
    let (n, _) = allocations(&s, &prog, &["execvp", "gcc", "x.c"]);
    assert!(n > 0, "a compiler call allocates: the counter works");
}

#[test]
fn a_cancelled_thread_leaks_no_descriptor_while_reporting() {
    // 200 threads, each cancelled (deferred) while it execs again and again;
    // almost all of its time is in the report (socket, connect, the lost
    // count's open/write/close; or the events file's open/write/close).
    let dir = scratch("cancel-report");
    let prog = build_c_fixture("cancel_report.c", &dir);
    let bad = not_a_program();
    for transport in ["lost-socket", "events"] {
        let s = Session::new(&dir, None);
        let mut cmd = s.command(&prog);
        cmd.arg(&bad).arg("200");
        if transport == "lost-socket" {
            cmd.env(pyrewrite_protocol::env::SOCKET, dir.join("no-driver.sock"));
        }
        let out = run(&mut cmd);
        assert_ok(&out, "cancel_report");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let fds: Vec<i64> = text
            .lines()
            .find_map(|l| l.strip_prefix("fds "))
            .map(|v| v.split(' ').filter_map(|n| n.parse().ok()).collect())
            .unwrap_or_default();
        assert_eq!(fds.len(), 2, "{text}");
        assert_eq!(fds[0], fds[1], "{transport}: descriptors leaked: {text}");
        assert!(text.contains("cancelled 200"), "{text}");
    }
    assert!(
        !read_events(&dir.join("events.jsonl")).is_empty(),
        "the execs were reported"
    );
}

#[test]
fn hooks_on_two_threads_before_our_constructor_capture_the_session() {
    // Another preloaded library's constructor execs from two threads before
    // ours ran: each hook captures the session itself (atomics, no lock,
    // no race: src/session.rs); all 100 execs are reported.
    let dir = scratch("early-exec");
    let early = dir.join("early_exec.so");
    let status = Command::new("gcc")
        .args(["-shared", "-fPIC", "-O1", "-pthread"])
        .arg(fixture("early_exec.c"))
        .arg("-o")
        .arg(&early)
        .env_remove("LD_PRELOAD")
        .status()
        .expect("run gcc");
    assert!(status.success(), "gcc failed on early_exec.c");
    let bad = not_a_program();
    let mut s = Session::new(&dir, None);
    s.extra_preload = Some(early.display().to_string());
    // The premise: the loader runs early_exec.so's constructor first.
    let order = run(s.command("/bin/true").env("LD_DEBUG", "files"));
    let order = stderr_of(&order);
    let init = |name: &str| {
        order
            .lines()
            .position(|l| l.contains("calling init:") && l.contains(name))
            .unwrap_or_else(|| panic!("no init of {name}: {order}"))
    };
    assert!(
        init("early_exec.so") < init("libpyrewrite"),
        "early_exec.so must be initialised first: {order}"
    );
    let _ = std::fs::remove_file(&s.events);
    let out = run(s.command("/bin/true").env("EARLY_EXEC_PROGRAM", &bad));
    assert_ok(&out, "/bin/true under early_exec.so");
    assert!(
        stderr_of(&out).contains("early ok 100"),
        "{}",
        stderr_of(&out)
    );
    let events = s.events();
    let early_events = events
        .iter()
        .filter(|e| e.function == "execve" && Path::new(&e.path) == bad)
        .count();
    assert_eq!(early_events, 100, "{events:#?}");
}
