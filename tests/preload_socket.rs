//! Events reach a listening driver over the Unix socket named by
//! PYREWRITE_SOCKET, one connection per event, and take precedence over the
//! file. A driver that stops taking them never hangs the build: each event
//! waits at most `socket::DEADLINE_MS`, and what is dropped is counted.

mod common;

use common::*;
use pyrewrite_protocol::socket::DEADLINE_MS;
use pyrewrite_protocol::{env, Action, Event};
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

#[test]
fn events_are_sent_to_the_session_socket() {
    let dir = scratch("socket");
    let emcc = FakeEmcc::new(&dir);
    let s = Session::new(&dir, Some(emcc.target(&dir)));
    write(&dir, "x.c", "int x;\n");
    let sock = dir.join("events.sock");
    let listener = UnixListener::bind(&sock).unwrap();

    let out = run(s
        .command("sh")
        .arg("-c")
        .arg("gcc -c x.c -o x.o && /bin/true")
        .env(env::SOCKET, &sock));
    assert_ok(&out, "sh under socket session");

    // Every event connected before its exec, so all are queued by now.
    listener.set_nonblocking(true).unwrap();
    let mut events: Vec<Event> = Vec::new();
    while let Ok((mut conn, _)) = listener.accept() {
        conn.set_nonblocking(false).unwrap();
        let mut text = String::new();
        conn.read_to_string(&mut text).unwrap();
        assert_eq!(
            text.matches('\n').count(),
            1,
            "one line per connection: {text:?}"
        );
        events.push(serde_json::from_str(text.trim_end()).unwrap());
    }
    let rewrites: Vec<_> = events
        .iter()
        .filter(|e| e.action == Action::Rewrite)
        .collect();
    assert_eq!(rewrites.len(), 1, "{events:#?}");
    assert_eq!(
        rewrites[0].argv,
        strings(&["gcc", "-c", "x.c", "-o", "x.o"])
    );
    assert!(
        events.iter().any(|e| e.path.ends_with("/true")),
        "{events:#?}"
    );
    assert!(!s.events.exists(), "the socket replaces the file");
    assert_eq!(emcc.calls().len(), 1);
}

#[test]
fn a_vanished_driver_does_not_change_the_build() {
    let dir = scratch("socket-gone");
    let emcc = FakeEmcc::new(&dir);
    let s = Session::new(&dir, Some(emcc.target(&dir)));
    write(&dir, "x.c", "int x;\n");
    let out = run(s
        .command("sh")
        .arg("-c")
        .arg("gcc -c x.c -o x.o && echo done")
        .env(env::SOCKET, dir.join("nobody-listens.sock")));
    assert_ok(&out, "build with a dead socket");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "done\n");
    assert!(out.stderr.is_empty());
    assert_eq!(emcc.calls().len(), 1);
}

/// Runs `cmd` to the end, or fails the test (killing it) after `limit`: a
/// hang must be a failure, not a test that never ends. Its output is read
/// while it runs (a full pipe must not stall it). (output, elapsed).
fn run_bounded(cmd: &mut std::process::Command, limit: Duration) -> (Output, Duration) {
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (stdout, stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let read_all = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let (out_reader, err_reader) = (read_all(Box::new(stdout)), read_all(Box::new(stderr)));
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {limit:?}: the build hangs on the socket");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    let output = Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    };
    (output, elapsed)
}

/// How many events the preload counted as lost for `socket`.
fn lost_count(socket: &Path) -> u64 {
    let mut path = socket.as_os_str().to_os_string();
    path.push(pyrewrite_protocol::socket::LOST_SUFFIX);
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Connections waiting in `listener`'s backlog, each read to its end.
fn drain(listener: &UnixListener) -> usize {
    listener.set_nonblocking(true).unwrap();
    let mut n = 0;
    while let Ok((mut conn, _)) = listener.accept() {
        conn.set_nonblocking(false).unwrap();
        let mut text = Vec::new();
        let _ = conn.read_to_end(&mut text);
        n += 1;
    }
    n
}

#[test]
fn a_driver_that_accepts_nothing_never_hangs_the_build() {
    let s = TempDir::new("sock-stalled");
    let sock = s.path().join("events.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    // Room for one pending connection, and nobody accepts: a stopped driver.
    // SAFETY: listen(2) again on our listening socket changes its backlog.
    assert_eq!(unsafe { libc::listen(listener.as_raw_fd(), 0) }, 0);
    let session = Session::new(s.path(), None);
    // Eight execs, each in a new (forked) process of the shell.
    let script = "for i in 1 2 3 4 5 6 7 8; do /bin/true; done; echo done";
    let (out, elapsed) = run_bounded(
        session
            .command("/bin/sh")
            .args(["-c", script])
            .env(env::SOCKET, &sock),
        Duration::from_secs(60),
    );
    assert_ok(&out, "build with a stalled driver");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "done\n");
    assert!(out.stderr.is_empty(), "{}", stderr_of(&out));
    // One process waited the deadline; the others saw the fresh loss and
    // did not wait (eight waits would take eight deadlines).
    let deadline = Duration::from_millis(DEADLINE_MS as u64);
    assert!(elapsed >= deadline, "{elapsed:?}");
    assert!(elapsed < deadline * 4, "each exec waited: {elapsed:?}");
    let delivered = drain(&listener);
    let lost = lost_count(&sock);
    assert_eq!(
        delivered as u64 + lost,
        8,
        "delivered {delivered}, lost {lost}"
    );
    assert!(lost >= 6, "lost {lost}");
}

#[test]
fn a_driver_that_never_reads_never_hangs_the_build() {
    let s = TempDir::new("sock-unread");
    let sock = s.path().join("events.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let session = Session::new(s.path(), None);
    // An 800 KB event line: more than a socket buffer holds, so the send
    // blocks while nobody reads.
    let big = "x".repeat(100_000);
    let (out, elapsed) = run_bounded(
        session
            .command("/bin/sh")
            .args(["-c", "/bin/true \"$@\" && echo done", "sh"])
            .args(std::iter::repeat_n(&big, 8))
            .env(env::SOCKET, &sock),
        Duration::from_secs(60),
    );
    assert_ok(&out, "build with a driver that never reads");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "done\n");
    assert!(
        elapsed < Duration::from_millis(DEADLINE_MS as u64) * 4,
        "{elapsed:?}"
    );
    assert_eq!(lost_count(&sock), 1);
    // Its connection was made; the driver would read a cut line (malformed).
    assert_eq!(drain(&listener), 1);
}

#[test]
fn a_stopped_driver_costs_the_build_one_deadline_and_reports_the_loss() {
    let s = TempDir::new("sock-sigstop");
    let big = "x".repeat(100_000);
    // The build stops the driver (its parent), runs an exec whose event
    // cannot be sent while the driver sleeps, and wakes the driver again.
    let script = "kill -STOP $PPID; /bin/true \"$@\"; kill -CONT $PPID; echo done";
    let (out, elapsed) = run_bounded(
        pyrewrite_session("trace")
            .args(["--all", "--", "sh", "-c", script, "sh"])
            .args(std::iter::repeat_n(&big, 8))
            .current_dir(s.path()),
        Duration::from_secs(60),
    );
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "done\n");
    assert!(
        err.contains("pyrewrite: warning: 1 event(s) lost: the driver did not take them"),
        "{err}"
    );
    assert!(
        elapsed < Duration::from_millis(DEADLINE_MS as u64) * 10,
        "{elapsed:?}"
    );
}
