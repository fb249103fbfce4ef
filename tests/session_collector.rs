//! `pyrewrite run`/`trace`/`events summary` end to end with a FAKE client:
//! the build command is a Python script that connects to `PYREWRITE_SOCKET`
//! exactly as libpyrewrite.so does (one connection, one JSON line, per exec).
//! This proves the driver side (collector, log, compdb, exit statuses,
//! signals) independently of the preload; `session_preload.rs` runs the real one.
//! The real library is still preloaded into the client, and the driver starts
//! the build through a hooked exec (`session/child.rs`): the client's own
//! exec (`python3 client.py`, a passthrough) is one more exec seen.

mod common;

use common::{driver, empty_config_home, read_json, read_json_lines, run_in, stderr_of, TempDir};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The fake preload. `client.py spec.json CODE` sends every event of the spec
/// (cwd filled in) and exits CODE; `client.py many N TAG` sends N compile
/// events for TAG-0.c .. TAG-(N-1).c.
const CLIENT: &str = r#"
import json, os, socket, sys, time
SOCK = os.environ["PYREWRITE_SOCKET"]
def send(ev):
    ev.setdefault("pid", os.getpid()); ev.setdefault("ppid", os.getppid())
    ev.setdefault("cwd", os.getcwd()); ev.setdefault("function", "execve")
    ev.setdefault("path", "/usr/bin/" + ev["argv"][0]); ev.setdefault("action", "passthrough")
    ev.setdefault("new_argv", None); ev.setdefault("time", time.time())
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(SOCK)
    s.sendall((json.dumps(ev) + "\n").encode())
    s.close()
if sys.argv[1] == "many":
    n, tag = int(sys.argv[2]), sys.argv[3]
    for i in range(n):
        send({"argv": ["gcc", "-c", f"{tag}-{i}.c", "-o", f"{tag}-{i}.o"], "tool": "cc"})
    sys.exit(0)
with open(sys.argv[1]) as f:
    for ev in json.load(f):
        send(ev)
sys.exit(int(sys.argv[2]))
"#;

/// The real Python interpreter, not a wrapper such as a pyenv shim: a shim's
/// own execs would be reported by the real preload and change the counts.
fn python() -> PathBuf {
    static PY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PY.get_or_init(|| {
        let out = Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .expect("python3 is needed for the fake preload client");
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    })
    .clone()
}

fn write_client(dir: &Path) -> PathBuf {
    let p = dir.join("client.py");
    std::fs::write(&p, CLIENT).unwrap();
    p
}

fn write_spec(dir: &Path, events: serde_json::Value) -> PathBuf {
    let p = dir.join("spec.json");
    std::fs::write(&p, events.to_string()).unwrap();
    p
}

/// `python3 client.py spec.json EXIT`, both files written to `dir`: the fake
/// build that sends the events of `spec` and exits `exit`.
fn client_command(dir: &Path, spec: serde_json::Value, exit: i32) -> Vec<std::ffi::OsString> {
    vec![
        python().into(),
        write_client(dir).into(),
        write_spec(dir, spec).into(),
        exit.to_string().into(),
    ]
}

/// A small build as the preload would report it: two compiles, a link, a
/// configure-style probe (no tool) and an answered `gcc --version`.
fn sample_build() -> serde_json::Value {
    serde_json::json!([
        {"argv": ["python3", "setup.py", "build_ext"]},
        {"argv": ["gcc", "--version"], "tool": "cc", "action": "answer", "reason": "version probe"},
        {"argv": ["gcc", "-O2", "-c", "src/a.c", "-o", "build/a.o"], "tool": "cc", "action": "rewrite",
         "new_argv": ["/usr/bin/emcc", "-O2", "-c", "src/a.c", "-o", "build/a.o", "-fPIC"]},
        {"argv": ["g++", "-c", "src/b.cpp", "-o", "build/b.o"], "tool": "c++", "action": "rewrite",
         "new_argv": ["/usr/bin/em++", "-c", "src/b.cpp", "-o", "build/b.o"]},
        {"argv": ["g++", "-shared", "build/a.o", "build/b.o", "-o", "m.so"], "tool": "c++", "action": "rewrite",
         "new_argv": ["/usr/bin/em++", "-shared", "build/a.o", "build/b.o", "-o", "m.so"]}
    ])
}

#[test]
fn trace_records_tool_events_writes_compdb_and_propagates_exit_code() {
    let s = TempDir::new("trace");
    let out = run_in(
        s.path(),
        driver()
            .args(["trace", "--"])
            .args(client_command(s.path(), sample_build(), 7)),
    );
    assert_eq!(out.status.code(), Some(7), "{}", stderr_of(&out));
    // Defaults: .pyrewrite/events.jsonl and .pyrewrite/compile_commands.json.
    let events = read_json_lines(&s.path().join(".pyrewrite/events.jsonl"));
    assert_eq!(
        events.len(),
        4,
        "the python3 exec (no tool) is not recorded without --all"
    );
    let db = read_json(&s.path().join(".pyrewrite/compile_commands.json"));
    let db = db.as_array().unwrap();
    assert_eq!(db.len(), 2);
    // Connections are read in parallel: entries keep arrival order, which
    // need not be the order the execs happened in.
    let mut files: Vec<&str> = db.iter().map(|e| e["file"].as_str().unwrap()).collect();
    files.sort();
    assert_eq!(files, vec!["src/a.c", "src/b.cpp"]);
    let a = db.iter().find(|e| e["file"] == "src/a.c").unwrap();
    // trace records what the build asked for, not the rewrite.
    assert_eq!(a["arguments"][0], "gcc");
    assert_eq!(a["output"], "build/a.o");
    assert_eq!(
        a["directory"].as_str().unwrap(),
        std::fs::canonicalize(s.path()).unwrap().to_str().unwrap()
    );
    let err = stderr_of(&out);
    assert!(
        err.contains("6 execs seen: 3 rewritten, 2 passed through, 1 answered, 0 refused"),
        "{err}"
    );
    assert!(err.contains("2 compiled, 1 linked"), "{err}");
}

#[test]
fn trace_all_records_every_exec_and_summary_reads_it_back() {
    let s = TempDir::new("trace-all");
    let log = s.path().join("log.jsonl");
    let out = run_in(
        s.path(),
        driver()
            .args(["trace", "--all", "--quiet", "--events"])
            .arg(&log)
            .args(["--"])
            .args(client_command(s.path(), sample_build(), 0)),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).is_empty(),
        "--quiet printed: {}",
        stderr_of(&out)
    );
    // The client's own exec, and the five it sends.
    assert_eq!(read_json_lines(&log).len(), 6);
    let summary = run_in(s.path(), driver().args(["events", "summary"]).arg(&log));
    assert_eq!(summary.status.code(), Some(0));
    let text = String::from_utf8_lossy(&summary.stdout);
    assert!(
        text.contains("6 execs seen: 3 rewritten, 2 passed through, 1 answered, 0 refused"),
        "{text}"
    );
    assert!(text.contains("tools: c++ 2, cc 2"), "{text}");
}

#[test]
fn events_summary_names_the_bad_line() {
    let s = TempDir::new("bad-log");
    let log = s.path().join("events.jsonl");
    std::fs::write(&log, "\n{\"pid\": 1}\n").unwrap();
    let out = run_in(s.path(), driver().args(["events", "summary"]).arg(&log));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("events.jsonl:2"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn run_compdb_holds_rewritten_commands() {
    let s = TempDir::new("run");
    let target = s.path().join("target.json");
    std::fs::write(&target, "{}").unwrap();
    let out = run_in(
        s.path(),
        driver()
            .args(["run", "--target"])
            .arg(&target)
            .args(["--compdb", "cc.json", "--"])
            .args(client_command(s.path(), sample_build(), 0)),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let db = read_json(&s.path().join("cc.json"));
    let mut argv0: Vec<&str> = db
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["arguments"][0].as_str().unwrap())
        .collect();
    argv0.sort();
    assert_eq!(argv0, vec!["/usr/bin/em++", "/usr/bin/emcc"]);
    // run records every exec, the configure-style python3 one included,
    // and the client's own exec.
    assert_eq!(
        read_json_lines(&s.path().join(".pyrewrite/events.jsonl")).len(),
        6
    );
    assert!(
        stderr_of(&out).contains("no new wheel found"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn run_without_a_readable_target_names_the_file_and_the_next_step() {
    let s = TempDir::new("no-target");
    let out = run_in(
        s.path(),
        driver()
            .env_remove("PYREWRITE_TARGET")
            .args(["run", "--", "true"]),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    // The default profile, under the (empty) XDG_CONFIG_HOME `driver()` sets.
    let default = empty_config_home().join("pyrewrite/target.json");
    assert!(
        err.contains(&format!(
            "no target profile: {} does not exist",
            default.display()
        )),
        "{err}"
    );
    assert!(
        err.contains("make it with `pyrewrite target from-pyodide PYODIDE_DIR`"),
        "{err}"
    );
    assert!(!s.path().join(".pyrewrite/events.jsonl").exists());
}

#[test]
fn run_exits_3_when_the_build_succeeds_but_a_wheel_cannot_be_assembled() {
    let s = TempDir::new("bad-wheel");
    let target = s.path().join("target.json");
    std::fs::write(&target, "{}").unwrap();
    // The "build" writes a wheel that is not even a zip file.
    let out = run_in(
        s.path(),
        driver().args(["run", "--target"]).arg(&target).args([
            "--",
            "sh",
            "-c",
            "mkdir -p wh && echo junk > wh/x-1.0-cp311-cp311-linux_x86_64.whl",
            "sh",
            "-w",
            "wh",
        ]),
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("x-1.0-cp311-cp311-linux_x86_64.whl"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn a_build_failure_wins_over_assembly() {
    let s = TempDir::new("fail");
    let target = s.path().join("target.json");
    std::fs::write(&target, "{}").unwrap();
    let out = run_in(
        s.path(),
        driver()
            .args(["run", "--quiet", "--target"])
            .arg(&target)
            .args([
                "--",
                "sh",
                "-c",
                "echo junk > y-1.0-py3-none-any.whl; exit 5",
            ]),
    );
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
}

#[test]
fn no_event_is_lost_from_8_parallel_jobs_of_200() {
    let s = TempDir::new("parallel");
    let client = write_client(s.path());
    let script = format!(
        "for j in 1 2 3 4 5 6 7 8; do {} {} many 200 job$j & done; wait",
        python().display(),
        client.display()
    );
    let out = run_in(
        s.path(),
        driver().args(["trace", "--quiet", "--", "sh", "-c", &script]),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let events = read_json_lines(&s.path().join(".pyrewrite/events.jsonl"));
    let mut sources: Vec<String> = events
        .iter()
        .map(|e| e["argv"][2].as_str().unwrap().to_string())
        .collect();
    sources.sort();
    sources.dedup();
    assert_eq!(sources.len(), 1600);
    let db = read_json(&s.path().join(".pyrewrite/compile_commands.json"));
    assert_eq!(db.as_array().unwrap().len(), 1600);
}

#[test]
fn plain_progress_prints_one_line_per_step() {
    let s = TempDir::new("progress");
    let out = run_in(
        s.path(),
        driver()
            .args(["trace", "--"])
            .args(client_command(s.path(), sample_build(), 0)),
    );
    let err = stderr_of(&out);
    // stderr is a pipe here, so progress is plain lines, not a status line.
    // Numbered in arrival order, one line per step.
    for n in ["[  1] ", "[  2] ", "[  3] "] {
        assert_eq!(err.matches(n).count(), 1, "{err}");
    }
    assert!(err.contains("] cc   src/a.c\n"), "{err}");
    assert!(err.contains("] c++  src/b.cpp\n"), "{err}");
    assert!(err.contains("] c++  m.so\n"), "{err}");
    assert!(!err.contains('\r'), "{err}");
}

/// Wait for `path` to exist (the build writes it once started).
fn wait_for(path: &Path) {
    for _ in 0..500 {
        if path.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("{} never appeared", path.display());
}

fn signal(child: &std::process::Child, sig: libc::c_int) {
    // SAFETY: kill(2) of a child process we started.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

/// Start `trace` around a shell that traps `name`, send `sig` to the DRIVER,
/// and check the build got it and the private directory is gone.
fn check_forwarded(sig: libc::c_int, name: &str) {
    let s = TempDir::new(name);
    let ready = s.path().join("socket-path");
    // The build traps the signal (before saying it is ready) to prove it got it.
    let script = format!(
        "trap 'echo got-{name} > {g}; kill $!; exit 42' {name}; \
         echo \"$PYREWRITE_SOCKET\" > {r}.tmp && mv {r}.tmp {r}; sleep 30 & wait",
        r = ready.display(),
        g = s.path().join("got").display()
    );
    let mut child = driver()
        .args(["trace", "--quiet", "--", "sh", "-c", &script])
        .current_dir(s.path())
        .spawn()
        .unwrap();
    wait_for(&ready);
    signal(&child, sig);
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(42),
        "driver must exit with the build's status"
    );
    assert_eq!(
        std::fs::read_to_string(s.path().join("got"))
            .unwrap()
            .trim(),
        format!("got-{name}")
    );
    let socket = PathBuf::from(std::fs::read_to_string(&ready).unwrap().trim());
    let private_dir = socket.parent().unwrap();
    assert!(
        private_dir.starts_with(std::env::temp_dir()),
        "{}",
        private_dir.display()
    );
    assert!(
        !private_dir.exists(),
        "temp dir {} left behind",
        private_dir.display()
    );
}

#[test]
fn sigterm_is_forwarded_to_the_build_and_the_temp_dir_removed() {
    check_forwarded(libc::SIGTERM, "TERM");
}

#[test]
fn sigint_is_forwarded_to_the_build_and_the_temp_dir_removed() {
    check_forwarded(libc::SIGINT, "INT");
}

#[test]
fn a_build_killed_by_a_signal_exits_128_plus_n() {
    let s = TempDir::new("killed");
    let ready = s.path().join("ready");
    let script = format!("touch {}; exec sleep 30", ready.display());
    let mut child = driver()
        .args(["trace", "--quiet", "--", "sh", "-c", &script])
        .current_dir(s.path())
        .spawn()
        .unwrap();
    wait_for(&ready);
    // Give `exec sleep` a moment to replace the shell; TERM kills either way.
    std::thread::sleep(std::time::Duration::from_millis(100));
    signal(&child, libc::SIGTERM);
    assert_eq!(child.wait().unwrap().code(), Some(128 + libc::SIGTERM));
}

#[test]
fn a_real_clang_tool_accepts_the_compdb() {
    let Some(tool) = common::which(&["clang-check-14", "clang-check"]) else {
        eprintln!("skipped: no clang-check installed (apt install clang-tools-14)");
        return;
    };
    let s = TempDir::new("clang");
    std::fs::create_dir_all(s.path().join("src/inc")).unwrap();
    std::fs::write(s.path().join("src/inc/answer.h"), "#define ANSWER 42\n").unwrap();
    // Compiles only with the -I and -D from the recorded command.
    std::fs::write(
        s.path().join("src/a.c"),
        "#include \"answer.h\"\nint f(void) { return ANSWER + EXTRA; }\n",
    )
    .unwrap();
    let spec = serde_json::json!([{"argv": ["gcc", "-Isrc/inc", "-DEXTRA=1", "-c", "src/a.c", "-o", "a.o"], "tool": "cc"}]);
    let out = run_in(
        s.path(),
        driver()
            .args([
                "trace",
                "--quiet",
                "--compdb",
                "build/compile_commands.json",
                "--",
            ])
            .args(client_command(s.path(), spec, 0)),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let check = Command::new(&tool)
        .args(["-p", "build", "src/a.c"])
        .current_dir(s.path())
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{} rejected the database: {}{}",
        tool.display(),
        String::from_utf8_lossy(&check.stdout),
        stderr_of(&check)
    );
    // And the database is what made it pass: without -DEXTRA the file fails.
    std::fs::write(s.path().join("build/compile_commands.json"), "[]").unwrap();
    let without = Command::new(&tool)
        .args(["-p", "build", "src/a.c"])
        .current_dir(s.path())
        .output()
        .unwrap();
    assert!(
        !without.status.success(),
        "clang-check passed without the database"
    );
}

#[test]
fn on_a_terminal_the_status_row_is_reserved_and_given_back() {
    let s = TempDir::new("tty");
    let client = write_client(s.path());
    let spec = write_spec(s.path(), sample_build());
    let bin = common::driver_bin();
    // util-linux `script` gives the driver a pseudo-terminal of a known size.
    let inner = format!(
        "stty rows 10 cols 80; {} trace -- {} {} {} 0",
        bin.display(),
        python().display(),
        client.display(),
        spec.display()
    );
    let out = run_in(
        s.path(),
        Command::new("script").args(["-qec", &inner, "/dev/null"]),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let tty = String::from_utf8_lossy(&out.stdout);
    let reserve = tty.find("\x1b[1;9r").expect("scroll region not shrunk");
    let status = tty
        .find("\x1b[10;1H\x1b[2Kpyrewrite: 1 compiled, 0 linked  src/")
        .expect("no status on the bottom row");
    let give_back = tty.find("\x1b[1;10r").expect("scroll region not restored");
    let summary = tty.find("6 execs seen").expect("no summary");
    assert!(
        reserve < status && status < give_back && give_back < summary,
        "{tty:?}"
    );
    assert!(
        !tty.contains("[  1] cc"),
        "plain lines on a terminal: {tty:?}"
    );
}
