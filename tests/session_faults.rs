//! Faults around a session (RELIABILITY.md, "Faults"): the driver killed
//! with SIGKILL in the middle of a build, and the event log on a full disk.

mod common;

use common::*;
use pyrewrite_protocol::socket::DEADLINE_MS;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

/// Processes whose environment holds `marker` (`NAME=VALUE`): the build's,
/// wherever they were reparented.
fn processes_with(marker: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    let me = std::process::id();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        // Gone already, or a zombie (no environment left): not running.
        let Ok(env) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if env.split(|&b| b == 0).any(|v| v == marker.as_bytes()) {
            pids.push(pid);
        }
    }
    pids
}

fn wait_for(path: &Path, limit: Duration, child: &mut Child) {
    let start = Instant::now();
    while !path.exists() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{} never appeared", path.display());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_driver_killed_mid_build_stops_the_build_and_leaves_no_wheel() {
    let s = TempDir::new("fault-kill");
    let dir = s.path();
    let emcc = FakeEmcc::new(dir);
    let target = emcc.target(dir);
    write(dir, "x.c", "int x;\n");
    // A build that compiles for a few seconds, then writes a wheel the way
    // pip does (temp file, rename) into dist/. Killed mid-build, it must not
    // get that far: a wheel there would be native-named and hold wasm.
    let script = "i=0; while [ $i -lt 400 ]; do gcc -c x.c -o x.o; i=$((i+1)); \
                  [ $i = 5 ] && : > started; done; \
                  mkdir -p dist; echo wasm > dist/.w.tmp; \
                  mv dist/.w.tmp dist/demo-1.0-cp311-cp311-linux_x86_64.whl; : > finished";
    let marker = format!("PYREWRITE_FAULT_TEST=kill-{}", std::process::id());
    let (name, value) = marker.split_once('=').unwrap();
    let mut driver = run_with(&target)
        .args(["--out", "out", "--", "/bin/sh", "-c", script])
        .env(name, value)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&dir.join("started"), Duration::from_secs(60), &mut driver);
    assert!(
        processes_with(&marker).len() >= 2,
        "the driver and its build run"
    );
    // SAFETY: plain kill(2) of our own child.
    unsafe { libc::kill(driver.id() as i32, libc::SIGKILL) };
    let killed = Instant::now();
    driver.wait().unwrap();

    // Every process of the build ends: the one it was running finishes,
    // none waits on the dead driver longer than the preload's deadline.
    let bound = Duration::from_millis(DEADLINE_MS as u64) * 10;
    let gone = loop {
        let left = processes_with(&marker);
        if left.is_empty() {
            break killed.elapsed();
        }
        assert!(
            killed.elapsed() < bound,
            "build processes {left:?} still run {bound:?} after the driver was killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    eprintln!(
        "build gone {:.0} ms after SIGKILL of the driver; {} of 400 compiles ran",
        gone.as_secs_f64() * 1000.0,
        emcc.calls().len()
    );
    // Give a build that escaped time to reach its end.
    std::thread::sleep(Duration::from_millis(3000));
    assert!(
        !dir.join("finished").exists(),
        "the build ran on to its end"
    );
    assert!(
        !dir.join("dist/demo-1.0-cp311-cp311-linux_x86_64.whl")
            .exists(),
        "the orphaned build wrote its native-named wheel"
    );
    let out_entries: Vec<_> = std::fs::read_dir(dir.join("out"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(out_entries.is_empty(), "left in --out: {out_entries:?}");
    // The log and the database are written whole or not at all: no
    // half-written file under their names.
    assert!(!dir.join(".pyrewrite/events.jsonl").exists());
    assert!(!dir.join(".pyrewrite/compile_commands.json").exists());
}

/// Runs `cmd` to its end, failing the test after `limit`.
fn run_bounded(cmd: &mut std::process::Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let read_all = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = read_all(Box::new(child.stdout.take().unwrap()));
    let err = read_all(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// The event log on a full file system: a 64 KiB tmpfs, mounted in a
/// private user and mount namespace (`unshare -Urm`: no root needed where
/// unprivileged user namespaces are allowed, nothing left mounted), holds
/// `--events`; the build runs 2000 execs, about 1 MB of log.
#[test]
fn an_event_log_on_a_full_disk_is_reported_and_the_build_goes_on() {
    let s = TempDir::new("fault-full");
    let dir = s.path();
    let full = dir.join("full");
    std::fs::create_dir_all(&full).unwrap();
    let execs = 2000;
    let pad = "p".repeat(400);
    let build = format!(
        "i=0; while [ $i -lt {execs} ]; do /bin/true {pad}; i=$((i+1)); done; \
         printf %s {pad} > \"$FULL/build-output\" && echo built"
    );
    // Inside the namespace: mount, then exec the driver (its environment
    // and arguments passed through "$@").
    // What is left on the full file system is listed before the namespace
    // (and the mount) goes.
    let wrapper = "mount -t tmpfs -o size=64k tmpfs \"$FULL\" || exit 97; \
                   \"$@\"; rc=$?; ls -A \"$FULL\" > \"$FULL.left\"; exit $rc";
    let mut trace = pyrewrite_session("trace");
    trace
        .args(["--all", "--events"])
        .arg(full.join("events.jsonl"))
        .args([
            "--compdb",
            "compile_commands.json",
            "--",
            "/bin/sh",
            "-c",
            &build,
        ]);
    let mut cmd = std::process::Command::new("unshare");
    cmd.args(["-Urm", "/bin/sh", "-c", wrapper, "sh"])
        .arg(trace.get_program())
        .args(trace.get_args())
        .envs(
            trace
                .get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
        )
        .env("FULL", &full)
        .current_dir(dir);
    let started = Instant::now();
    let out = run_bounded(&mut cmd, Duration::from_secs(120));
    let took = started.elapsed();
    let err = stderr_of(&out);
    assert_ne!(
        out.status.code(),
        Some(97),
        "cannot mount a tmpfs in a user namespace (unshare -Urm; util-linux, unprivileged \
         user namespaces): {err}"
    );
    eprintln!("{err}\n(took {:.1} s)", took.as_secs_f64());
    // The build went on to its end, every exec seen; it could even write to
    // the file system the log filled: the driver gave the space back.
    assert_eq!(String::from_utf8_lossy(&out.stdout), "built\n", "{err}");
    assert!(
        err.contains(&format!("pyrewrite: {} execs seen", execs + 1)),
        "{err}"
    );
    // The loss is reported, naming the file and the cause, and the status
    // is the documented 2 (a log that could not be written after a
    // successful build).
    assert!(
        err.contains("pyrewrite: error: cannot write the event log"),
        "{err}"
    );
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains("events were not logged"), "{err}");
    assert_eq!(out.status.code(), Some(2), "{err}");
    // Nothing half-written stays on the full disk: the log's temporary
    // file is removed at the first failed write (only the build's file).
    let left = std::fs::read_to_string(dir.join("full.left")).unwrap();
    assert_eq!(left, "build-output\n", "left on the full file system");
    // The compilation database elsewhere is written.
    assert!(dir.join("compile_commands.json").is_file(), "{err}");
}
