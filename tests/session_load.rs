//! Load: many execs from parallel workers under `pyrewrite trace --all` and
//! under `pyrewrite run` through every exec entry point (the real preload
//! and driver), none lost. Each exec reports one event over the driver's
//! socket while 16 workers exec at once (RELIABILITY.md, "Load").

mod common;

use common::*;
use std::time::Instant;

const WORKERS: usize = 16;
const EXECS_PER_WORKER: usize = 625;

#[test]
fn ten_thousand_execs_from_sixteen_workers_are_all_seen() {
    let s = TempDir::new("load");
    // Each worker is a subshell that execs /bin/true in a loop (fork, then
    // execve through the library's hook).
    let script = format!(
        "for w in $(seq {WORKERS}); do \
           (i=0; while [ $i -lt {EXECS_PER_WORKER} ]; do /bin/true; i=$((i+1)); done) & \
         done; wait"
    );
    let events = s.path().join("events.jsonl");
    let started = Instant::now();
    let out = run_in(
        s.path(),
        pyrewrite_session("trace")
            .arg("--all")
            .arg("--events")
            .arg(&events)
            .args(["--", "/bin/sh", "-c", &script]),
    );
    let elapsed = started.elapsed();
    assert_ok(&out, "the parallel exec loop under trace");
    let stderr = stderr_of(&out);
    assert!(!stderr.contains("lost"), "{stderr}");
    let seen = read_events(&events)
        .iter()
        .filter(|e| e.path == "/bin/true")
        .count();
    assert_eq!(
        seen,
        WORKERS * EXECS_PER_WORKER,
        "every exec of /bin/true is in the log"
    );
    eprintln!(
        "{seen} execs from {WORKERS} workers seen in {:.1} s ({:.0} execs/s)",
        elapsed.as_secs_f64(),
        seen as f64 / elapsed.as_secs_f64()
    );
}

/// The exec entry points the library hooks, each called by `exec_each`.
const ENTRY_POINTS: &[&str] = &[
    "execve",
    "execv",
    "execvp",
    "execvpe",
    "execl",
    "execlp",
    "execle",
    "fexecve",
    "execveat",
    "posix_spawn",
    "posix_spawnp",
];

/// The same load under `pyrewrite run`, through every exec entry point:
/// each worker cycles through them, every call running `strip` (a tool the
/// rules answer in the process itself, so each one loads the profile and
/// decides, and none costs an emcc). 10 000 strip decisions, all logged.
#[test]
fn ten_thousand_decisions_through_every_entry_point_under_run_are_all_seen() {
    let s = TempDir::new("load-run");
    let exec_each = build_c_fixture("exec_each.c", s.path());
    let profile = s.path().join("target.json");
    std::fs::write(&profile, "{}").unwrap();
    let points = ENTRY_POINTS.join(" ");
    let script = format!(
        "for w in $(seq {WORKERS}); do \
           (i=0; while [ $i -lt {EXECS_PER_WORKER} ]; do \
              for f in {points}; do \
                [ $i -lt {EXECS_PER_WORKER} ] || break; \
                {exe} $f /usr/bin/strip strip --version || exit 1; \
                i=$((i+1)); \
              done; \
            done) & \
         done; wait",
        exe = exec_each.display()
    );
    let events = s.path().join("events.jsonl");
    let started = Instant::now();
    let out = run_in(
        s.path(),
        run_with(&profile)
            .arg("--events")
            .arg(&events)
            .args(["--", "/bin/sh", "-c", &script]),
    );
    let elapsed = started.elapsed();
    assert_ok(&out, "the parallel exec loop under run");
    let stderr = stderr_of(&out);
    assert!(!stderr.contains("lost"), "{stderr}");
    let strips: Vec<_> = read_events(&events)
        .into_iter()
        .filter(|e| e.tool.as_deref() == Some("strip"))
        .collect();
    assert_eq!(
        strips.len(),
        WORKERS * EXECS_PER_WORKER,
        "every strip call is in the log"
    );
    for f in ENTRY_POINTS {
        let n = strips.iter().filter(|e| e.function == *f).count();
        assert!(
            n >= WORKERS * EXECS_PER_WORKER / ENTRY_POINTS.len() - WORKERS,
            "{f}: {n}"
        );
    }
    eprintln!(
        "{} strip decisions through {} entry points from {WORKERS} workers in {:.1} s ({:.0}/s)",
        strips.len(),
        ENTRY_POINTS.len(),
        elapsed.as_secs_f64(),
        strips.len() as f64 / elapsed.as_secs_f64()
    );
}
