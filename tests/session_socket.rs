//! Hostile input on a live session's event socket (RELIABILITY.md, "The
//! event socket"): a real `pyrewrite trace --all` runs a build that writes
//! `$PYREWRITE_SOCKET` to a file and waits on a FIFO; the test attacks that
//! socket (garbage lines, over-long lines, thousands of held and churned
//! connections), then lets the build run real execs. The driver must stay
//! bounded (threads, descriptors, memory), keep every real event, exit with
//! the build's status and report the bad input as warnings.

mod common;

use common::*;
use std::ffi::CString;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

/// Real execs the build makes after the attack.
const REAL_EXECS: usize = 200;
/// The longest the whole session may take once released (a hang fails).
const LIMIT: Duration = Duration::from_secs(120);

/// A `pyrewrite trace --all` session whose build waits for the test.
struct Held {
    dir: TempDir,
    child: Child,
    socket: PathBuf,
    readers: Vec<std::thread::JoinHandle<Vec<u8>>>,
}

impl Held {
    /// Starts the session (with the driver's soft descriptor limit set to
    /// `nofile` when given) and waits until the build has published the
    /// socket path.
    fn start(name: &str, nofile: Option<u64>) -> Held {
        let dir = TempDir::new(name);
        let fifo = dir.path().join("go");
        let c = CString::new(fifo.as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
        // No exec while waiting: `read` is a shell builtin.
        let script = format!(
            "printf %s \"$PYREWRITE_SOCKET\" > sock.tmp && mv sock.tmp sock.path; \
             read x < go; \
             i=0; while [ $i -lt {REAL_EXECS} ]; do /bin/true; i=$((i+1)); done"
        );
        let mut cmd = pyrewrite_session("trace");
        cmd.args(["--all", "--events", "events.jsonl", "--", "/bin/sh", "-c"])
            .arg(&script)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(n) = nofile {
            // SAFETY: only setrlimit between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    let mut lim = libc::rlimit {
                        rlim_cur: 0,
                        rlim_max: 0,
                    };
                    libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
                    lim.rlim_cur = n.min(lim.rlim_max);
                    libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
                    Ok(())
                });
            }
        }
        let mut child = cmd.spawn().unwrap();
        let read_all = |mut r: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut v = Vec::new();
                let _ = r.read_to_end(&mut v);
                v
            })
        };
        let readers = vec![
            read_all(Box::new(child.stdout.take().unwrap())),
            read_all(Box::new(child.stderr.take().unwrap())),
        ];
        let published = dir.path().join("sock.path");
        let start = Instant::now();
        while !published.exists() {
            if start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                panic!("the build never published its socket");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let socket = PathBuf::from(std::fs::read_to_string(&published).unwrap());
        Held {
            dir,
            child,
            socket,
            readers,
        }
    }

    fn connect(&self) -> UnixStream {
        UnixStream::connect(&self.socket).expect("connect to the session socket")
    }

    /// One connection that writes `bytes` and closes (a write cut short by
    /// the driver closing is fine).
    fn send(&self, bytes: &[u8]) {
        let _ = self.connect().write_all(bytes);
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Lets the build run its real execs and waits for the session to end
    /// (a hang fails the test).
    fn release(mut self) -> (Output, TempDir) {
        let fifo = self.dir.path().join("go");
        std::fs::OpenOptions::new()
            .write(true)
            .open(&fifo)
            .unwrap()
            .write_all(b"go\n")
            .unwrap();
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > LIMIT {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("the session still ran {LIMIT:?} after the build was released");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut outs = self.readers.into_iter().map(|r| r.join().unwrap());
        let output = Output {
            status,
            stdout: outs.next().unwrap(),
            stderr: outs.next().unwrap(),
        };
        (output, self.dir)
    }
}

/// A line of `/proc/PID/status` (`VmHWM`, `Threads`), its number.
fn proc_status(pid: u32, key: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in /proc/{pid}/status"))
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

/// Every real exec is in the log and the session ended as the build did.
fn assert_real_events_kept(out: &Output, dir: &Path) {
    let err = stderr_of(out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("lost"), "{err}");
    let events = read_events(&dir.join("events.jsonl"));
    let real = events.iter().filter(|e| e.path == "/bin/true").count();
    assert_eq!(real, REAL_EXECS, "{err}");
}

/// The `N` of a warning line containing `what`.
fn warned(err: &str, what: &str) -> u64 {
    err.lines()
        .find(|l| l.starts_with("pyrewrite: warning: ") && l.contains(what))
        .and_then(|l| {
            l.strip_prefix("pyrewrite: warning: ")?
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

#[test]
fn garbage_and_over_long_lines_are_counted_and_real_events_still_arrive() {
    let s = Held::start("sock-garbage", None);
    let good = |pid: i32| {
        let mut e = pyrewrite_protocol::Event {
            pid,
            ppid: 1,
            cwd: "/".into(),
            function: "execve".into(),
            path: "/attacker".into(),
            argv: vec!["x".into()],
            action: pyrewrite_protocol::Action::Passthrough,
            new_argv: None,
            tool: None,
            reason: None,
            time: 0.0,
        };
        e.pid = pid;
        e.to_json_line().into_bytes()
    };
    // Invalid UTF-8 inside a string.
    let mut bad = good(1);
    bad.splice(30..30, [0xff, 0xc0, 0x80]);
    s.send(&bad);
    // Truncated JSON: the connection ends mid-event.
    let g = good(2);
    s.send(&g[..g.len() - 9]);
    // Binary garbage, NULs included, as one line.
    let garbage: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .filter(|&b| b != b'\n')
        .collect();
    s.send(&[&garbage[..], b"\n"].concat());
    // JSON of another shape.
    s.send(b"{\"pid\":\"one\"}\n");
    // Connections that send nothing.
    for _ in 0..10 {
        drop(s.connect());
    }
    // Over-long lines: 4 at once, each up to 256 MiB without a newline.
    // The driver must drop each after 16 MiB, holding no more than its
    // buffer budget, not the gigabyte sent.
    let hwm_before = proc_status(s.pid(), "VmHWM");
    let floods: Vec<_> = (0..4)
        .map(|_| {
            let mut c = s.connect();
            std::thread::spawn(move || {
                let chunk = vec![b'x'; 1 << 20];
                let mut sent = 0usize;
                while sent < 256 << 20 {
                    match c.write(&chunk) {
                        Ok(n) => sent += n,
                        Err(_) => break,
                    }
                }
                sent
            })
        })
        .collect();
    let sent: Vec<usize> = floods.into_iter().map(|t| t.join().unwrap()).collect();
    let hwm = proc_status(s.pid(), "VmHWM");
    eprintln!(
        "over-long lines: sent {:?} MiB; driver VmHWM {hwm_before} KiB before, {hwm} KiB after",
        sent.iter().map(|n| n >> 20).collect::<Vec<_>>()
    );
    for n in &sent {
        assert!(
            *n < 256 << 20,
            "the driver read a whole 256 MiB line: {sent:?}"
        );
    }
    assert!(
        hwm < 200 * 1024,
        "driver peak RSS {hwm} KiB under over-long lines"
    );

    let (out, dir) = s.release();
    assert_real_events_kept(&out, dir.path());
    let err = stderr_of(&out);
    let logged = read_events(&dir.path().join("events.jsonl"));
    assert!(logged.iter().all(|e| e.path != "/attacker"), "{err}");
    assert_eq!(warned(&err, "malformed event line(s)"), 4, "{err}");
    assert!(err.contains("the first: "), "{err}");
    assert_eq!(warned(&err, "longer than 16 MiB dropped"), 4, "{err}");
    assert_eq!(
        warned(&err, "event connection(s) sent nothing"),
        10,
        "{err}"
    );
}

#[test]
fn a_flood_of_held_and_churned_connections_leaves_the_driver_bounded() {
    // A low descriptor limit for the driver: it must cap its connections
    // below it rather than fail to accept the build's.
    let nofile = 256;
    let s = Held::start("sock-flood", Some(nofile));
    let held_n = 3000;
    let churn_n = 5000;
    let started = Instant::now();
    // The test's own descriptors: the held connections need one each.
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: valid out-pointers.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur = lim.rlim_max.min(16384);
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
    }
    assert!(
        lim.rlim_cur as usize > held_n + 100,
        "the test needs {held_n} descriptors (hard limit {})",
        lim.rlim_max
    );
    // In a thread: a driver that stops accepting leaves connects blocked
    // on a full backlog, and that must fail the test, not hang it.
    let (tx, rx) = std::sync::mpsc::channel();
    let socket = s.socket.clone();
    std::thread::spawn(move || {
        let connect = || UnixStream::connect(&socket).expect("connect to the session socket");
        let held: Vec<UnixStream> = (0..held_n).map(|_| connect()).collect();
        for _ in 0..churn_n {
            drop(connect());
        }
        let _ = tx.send(held);
    });
    let held = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the flood's connects still blocked after 60 s: the driver stopped accepting");
    let flood_time = started.elapsed();
    // Give the driver a moment to take the backlog, then look at it.
    std::thread::sleep(Duration::from_millis(300));
    let pid = s.pid();
    let threads = proc_status(pid, "Threads");
    let fds = open_fds(pid);
    let hwm = proc_status(pid, "VmHWM");
    eprintln!(
        "{held_n} held + {churn_n} churned connections in {:.2} s; driver: {threads} threads, \
         {fds} open descriptors (limit {nofile}), VmHWM {hwm} KiB",
        flood_time.as_secs_f64()
    );
    assert!(threads <= 4, "{threads} threads");
    assert!((fds as u64) < nofile - 16, "{fds} descriptors open");

    // The real execs run while the connections are still held.
    let released = Instant::now();
    let (out, dir) = s.release();
    let took = released.elapsed();
    drop(held);
    eprintln!(
        "build released, session ended in {:.2} s",
        took.as_secs_f64()
    );
    assert_real_events_kept(&out, dir.path());
    let err = stderr_of(&out);
    assert_eq!(
        warned(&err, "event connection(s) closed before a complete line"),
        held_n as u64,
        "{err}"
    );
    assert_eq!(
        warned(&err, "event connection(s) sent nothing"),
        churn_n as u64,
        "{err}"
    );
    assert!(
        hwm < 100 * 1024,
        "driver peak RSS {hwm} KiB under the flood"
    );
}
