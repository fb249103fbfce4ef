//! Each interposed libc entry point, called by a small C program, execs `gcc`:
//! the event names the function and the rewrite, and the fake emcc ran the
//! rewritten command (see docs/preload.md, "Every exec entry point").

mod common;

use common::*;
use pyrewrite_protocol::{Action, Event};
use std::path::{Path, PathBuf};

struct Setup {
    dir: PathBuf,
    emcc: FakeEmcc,
    session: Session,
    exec_each: PathBuf,
}

fn setup(name: &str) -> Setup {
    let dir = scratch(name);
    let emcc = FakeEmcc::new(&dir);
    let target = emcc.target(&dir);
    write(&dir, "x.c", "int x;\n");
    let exec_each = build_c_fixture("exec_each.c", &dir);
    let session = Session::new(&dir, Some(target));
    Setup {
        dir,
        emcc,
        session,
        exec_each,
    }
}

fn compiler_events(events: &[Event]) -> Vec<&Event> {
    events.iter().filter(|e| e.tool.is_some()).collect()
}

/// Runs `exec_each FUNCTION PATH gcc -c x.c -o x.o` and checks event + rewrite.
fn check_function(function: &str, path: &str, expected_function: &str) {
    let s = setup(&format!("fn-{function}"));
    let argv = strings(&["gcc", "-c", "x.c", "-o", "x.o"]);
    let out = run(s
        .session
        .command(&s.exec_each)
        .arg(function)
        .arg(path)
        .args(&argv));
    assert_ok(&out, function);

    let events = s.session.events();
    let compiles = compiler_events(&events);
    assert_eq!(
        compiles.len(),
        1,
        "one compiler event for {function}: {events:#?}"
    );
    let e = compiles[0];
    assert_eq!(e.function, expected_function);
    assert_eq!(e.argv, argv);
    assert_eq!(e.action, Action::Rewrite);
    assert_eq!(e.tool.as_deref(), Some("cc"));
    assert!(e.pid > 0 && e.ppid > 0);
    assert_eq!(Path::new(&e.cwd), s.dir.canonicalize().unwrap());
    assert!(e.time > 1.6e9, "time is Unix seconds: {}", e.time);
    let expected = expected_rewrite(&e.path, &argv, s.session.target.as_ref().unwrap());
    assert_eq!(e.new_argv.as_ref(), Some(&expected));

    let calls = s.emcc.calls();
    assert_eq!(calls.len(), 1, "fake emcc ran once for {function}");
    assert_eq!(calls[0].args, expected[1..].to_vec());
    assert!(
        !calls[0].ld_preload.contains("libpyrewrite.so"),
        "emcc must run without the preload (recursion guard): {:?}",
        calls[0].ld_preload
    );
    assert_eq!(
        std::fs::read_to_string(s.dir.join("x.o")).unwrap(),
        "fake-wasm\n"
    );
}

#[test]
fn execve_is_rewritten() {
    check_function("execve", "/usr/bin/gcc", "execve");
}

#[test]
fn execv_is_rewritten() {
    check_function("execv", "/usr/bin/gcc", "execv");
}

#[test]
fn execvp_is_rewritten() {
    check_function("execvp", "gcc", "execvp");
}

#[test]
fn execvpe_is_rewritten() {
    check_function("execvpe", "gcc", "execvpe");
}

#[test]
fn execl_is_rewritten() {
    check_function("execl", "/usr/bin/gcc", "execl");
}

#[test]
fn execlp_is_rewritten() {
    check_function("execlp", "gcc", "execlp");
}

#[test]
fn execle_is_rewritten() {
    check_function("execle", "/usr/bin/gcc", "execle");
}

#[test]
fn fexecve_is_rewritten() {
    check_function("fexecve", "/usr/bin/gcc", "fexecve");
}

#[test]
fn execveat_is_rewritten() {
    check_function("execveat", "/usr/bin/gcc", "execveat");
}

#[test]
fn posix_spawn_is_rewritten() {
    check_function("posix_spawn", "/usr/bin/gcc", "posix_spawn");
}

#[test]
fn posix_spawnp_is_rewritten() {
    check_function("posix_spawnp", "gcc", "posix_spawnp");
}

/// system/popen: the shell is reported by the hook, the compiler by the shell.
fn check_shell_function(function: &str) {
    let s = setup(&format!("fn-{function}"));
    let out = run(s
        .session
        .command(&s.exec_each)
        .args([function, "/bin/sh", "sh", "gcc", "-c", "x.c", "-o", "x.o"]));
    assert_ok(&out, function);
    let events = s.session.events();
    let shell = events
        .iter()
        .find(|e| e.function == function)
        .unwrap_or_else(|| panic!("no {function} event: {events:#?}"));
    assert_eq!(shell.path, "/bin/sh");
    assert_eq!(shell.argv, strings(&["sh", "-c", "gcc -c x.c -o x.o"]));
    assert_eq!(shell.action, Action::Passthrough);
    let compiles = compiler_events(&events);
    assert_eq!(compiles.len(), 1, "{events:#?}");
    assert_eq!(compiles[0].action, Action::Rewrite);
    assert_ne!(
        compiles[0].pid, shell.pid,
        "the compiler runs in the shell, a child of the caller"
    );
    assert_eq!(s.emcc.calls().len(), 1);
}

#[test]
fn system_is_reported_and_its_shell_rewrites() {
    check_shell_function("system");
}

#[test]
fn popen_is_reported_and_its_shell_rewrites() {
    check_shell_function("popen");
}

#[test]
fn compiler_exit_status_reaches_the_caller() {
    for function in ["execve", "posix_spawnp"] {
        let s = setup(&format!("status-{function}"));
        let out = run(s
            .session
            .command(&s.exec_each)
            .env("FAKE_EMCC_EXIT", "3")
            .args([function, "/usr/bin/gcc", "gcc", "-c", "x.c"]));
        assert_eq!(out.status.code(), Some(3), "{function}: {out:?}");
    }
}

#[test]
fn non_compilers_run_unchanged_and_are_reported() {
    let s = setup("passthrough");
    let out = run(s
        .session
        .command(&s.exec_each)
        .args(["execvp", "echo", "echo", "hello", "world"]));
    assert_ok(&out, "echo");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello world\n");
    let events = s.session.events();
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0].function, "execvp");
    assert!(events[0].path.ends_with("/echo"), "{:?}", events[0].path);
    assert_eq!(events[0].action, Action::Passthrough);
    assert_eq!(events[0].new_argv, None);
    assert_eq!(events[0].tool, None);
    assert!(s.emcc.calls().is_empty());
}

/// What the rules decide for `argv` under the session's profile.
fn decision(s: &Setup, path: &str, argv: &[&str]) -> pyrewrite_rules::Decision {
    let text = std::fs::read_to_string(s.session.target.as_ref().unwrap()).unwrap();
    let t = pyrewrite_rules::Target::from_json(&text).unwrap();
    let args: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
    pyrewrite_rules::decide(path.as_bytes(), &args, &t, &|_| None)
}

#[test]
fn answers_run_nothing_and_print_the_rules_stdout() {
    let argv = ["gcc", "-dumpmachine"];
    for function in ["execvp", "posix_spawnp", "posix_spawnp_pipe"] {
        let s = setup(&format!("answer-{function}"));
        let pyrewrite_rules::Decision::Answer {
            stdout, exit_code, ..
        } = decision(&s, "/usr/bin/gcc", &argv)
        else {
            panic!("the rules answer gcc -dumpmachine");
        };
        let stdout = String::from_utf8(stdout).unwrap();
        let out = run(s
            .session
            .command(&s.exec_each)
            .arg(function)
            .arg("gcc")
            .args(argv));
        assert_eq!(out.status.code(), Some(exit_code), "{function}: {out:?}");
        let got = String::from_utf8_lossy(&out.stdout);
        if function == "posix_spawnp_pipe" {
            // The reply honours the caller's file actions (stdout is a pipe).
            assert_eq!(got, format!("captured[{stdout}]\n"));
        } else {
            assert_eq!(got, stdout, "{function}");
        }
        let events = s.session.events();
        assert_eq!(events.len(), 1, "{events:#?}");
        assert_eq!(events[0].action, Action::Answer);
        assert!(events[0].reason.is_some());
        assert_eq!(events[0].new_argv, None);
        assert!(s.emcc.calls().is_empty(), "an answer runs nothing");
    }
}

#[test]
fn refusals_print_the_message_and_exit_with_its_code() {
    let argv = ["gcc", "-fopenmp", "-c", "x.c", "-o", "x.o"];
    for function in ["execve", "posix_spawn"] {
        let s = setup(&format!("refuse-{function}"));
        let pyrewrite_rules::Decision::Refuse {
            message, exit_code, ..
        } = decision(&s, "/usr/bin/gcc", &argv)
        else {
            panic!("the rules refuse OpenMP");
        };
        let out = run(s
            .session
            .command(&s.exec_each)
            .arg(function)
            .arg("/usr/bin/gcc")
            .args(argv));
        assert_eq!(out.status.code(), Some(exit_code), "{function}: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), format!("{message}\n"));
        let events = s.session.events();
        assert_eq!(events.len(), 1, "{events:#?}");
        assert_eq!(events[0].action, Action::Refuse);
        assert_eq!(events[0].reason.as_deref(), Some(message.as_str()));
        assert!(s.emcc.calls().is_empty());
        assert!(!s.dir.join("x.o").exists());
    }
}

#[test]
fn response_files_are_rewritten_before_the_exec() {
    let s = setup("response-file");
    write(&s.dir, "args.rsp", "-c x.c\n-o x.o\n");
    let argv = strings(&["gcc", "@args.rsp"]);
    let text = std::fs::read_to_string(s.session.target.as_ref().unwrap()).unwrap();
    let t = pyrewrite_rules::Target::from_json(&text).unwrap();
    let args: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
    let dir = s.dir.clone();
    let read = move |p: &[u8]| std::fs::read(dir.join(String::from_utf8_lossy(p).as_ref())).ok();
    let pyrewrite_rules::Decision::Rewrite {
        argv: new, files, ..
    } = pyrewrite_rules::decide(b"/usr/bin/gcc", &args, &t, &read)
    else {
        panic!("the rules rewrite gcc @args.rsp");
    };
    let out = run(s
        .session
        .command(&s.exec_each)
        .arg("execv")
        .arg("/usr/bin/gcc")
        .args(&argv));
    assert_ok(&out, "gcc @args.rsp");
    let events = s.session.events();
    let new: Vec<String> = new
        .into_iter()
        .map(|a| String::from_utf8(a).unwrap())
        .collect();
    assert_eq!(events[0].new_argv.as_ref(), Some(&new));
    for (name, contents) in files {
        let written = std::fs::read(s.dir.join(String::from_utf8(name).unwrap())).unwrap();
        assert_eq!(written, contents, "the rewritten response file is on disk");
    }
    assert_eq!(s.emcc.calls()[0].args, new[1..].to_vec());
}
