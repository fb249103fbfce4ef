//! Load: many execs from parallel workers under `pyrewrite trace --all` (the
//! real preload and driver), none lost. Each exec reports one event over the
//! driver's socket while 16 workers exec at once (RELIABILITY.md, "Load").

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
