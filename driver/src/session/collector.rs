//! The event collector: a Unix socket that every preloaded process of the
//! build connects to, once per exec, to write one JSON line.
//!
//! One thread does all the socket work: it accepts connections, reads them
//! (non-blocking, `poll`ed together), parses each complete line and sends the
//! events into one channel; the caller owns the single consumer. Draining is
//! what makes it lossless: the preload connects before the exec it reports,
//! and build tools wait for their children, so when the build command exits
//! every connection has already been made and sits accepted or in the listen
//! backlog. [`Collector::drain_and_stop`] accepts until the backlog is empty
//! and reads those connections to their end.
//!
//! Bounded against anything else that connects (a broken or hostile client):
//! a line may hold at most [`MAX_LINE`] bytes, all connections together at
//! most [`BUFFER_BUDGET`] bytes of unfinished lines, at most
//! [`MAX_OPEN`] connections (fewer under a low descriptor limit) are open at
//! once, and a connection that sends nothing for [`IDLE_TIMEOUT`] or stays
//! longer than [`MAX_CONNECTION_TIME`] is closed. The preload needs none of
//! that: it writes its line right after connecting and gives up after
//! `socket::DEADLINE_MS`. What does not fit is never fatal: it is counted in
//! [`Rejected`] and reported as warnings at the end of the session; real
//! events keep flowing (docs/session.md, "Bad input on the event socket").

use anyhow::Context;
use crossbeam_channel::{Receiver, Sender};
use pyrewrite_protocol::socket::DEADLINE_MS;
use pyrewrite_protocol::Event;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The longest event line taken, newline excluded. The kernel caps argv and
/// the environment together at a quarter of the stack limit (2 MiB with the
/// usual 8 MiB, at most 6 MiB); an event holds argv and the rewritten argv,
/// JSON-escaped, so a real event stays far below this.
pub const MAX_LINE: usize = 16 << 20;
/// Unfinished lines of all open connections together; over it, the
/// connection holding the most is closed (real events are small).
pub const BUFFER_BUDGET: usize = 64 << 20;
/// Open connections at most (and at most half the soft descriptor limit);
/// over it, the connection idle the longest is closed.
pub const MAX_OPEN: usize = 1024;
/// A connection that sends nothing for this long is closed: the preload
/// gives up on an event after `DEADLINE_MS`.
pub const IDLE_TIMEOUT: Duration = Duration::from_millis(2 * DEADLINE_MS as u64);
/// A connection open longer than this is closed, however it trickles.
pub const MAX_CONNECTION_TIME: Duration = Duration::from_secs(10);
/// How often the loop looks at the stop flag and the timeouts while idle.
const POLL_MS: i32 = 50;
/// Bytes read from one connection per turn, so one cannot starve the others.
const CHUNK: usize = 64 << 10;
const READS_PER_TURN: usize = 4;
/// Events waiting for the consumer; when it lags this far, the socket
/// thread waits (the backlog, then the preload's deadline, take the rest).
const QUEUE: usize = 4096;
/// Characters of the first malformed line kept for the warning.
const SHOWN: usize = 300;

/// Input on the socket that was not an event, counted for the summary.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Connections accepted (good and bad), for the figures.
    pub connections: u64,
    /// Lines that are not a JSON event: not JSON, not UTF-8, cut short,
    /// binary garbage, another schema.
    pub malformed: u64,
    /// The start of the first malformed line, lossily decoded.
    pub first_malformed: Option<String>,
    /// Lines longer than [`MAX_LINE`] (their connection is closed).
    pub overlong: u64,
    /// Connections closed by the driver before they ended: idle, open too
    /// long, over [`MAX_OPEN`] or [`BUFFER_BUDGET`], or still open when the
    /// session ended.
    pub cut: u64,
    /// Connections that ended without sending a byte.
    pub empty: u64,
    /// Failed accepts (a descriptor limit reached by other means).
    pub accept_errors: u64,
}

impl Rejected {
    /// Whether anything needs a warning.
    pub fn any(&self) -> bool {
        self.malformed + self.overlong + self.cut + self.empty + self.accept_errors > 0
    }

    /// The warning lines, `pyrewrite: warning: ...`, one per kind seen.
    pub fn render(&self) -> String {
        let mut s = String::new();
        if self.malformed > 0 {
            let first = self.first_malformed.as_deref().unwrap_or("");
            s += &format!(
                "pyrewrite: warning: {} malformed event line(s) received and skipped (not a JSON \
                 event, not UTF-8, or cut short); the first: {first}\n",
                self.malformed
            );
        }
        if self.overlong > 0 {
            s += &format!(
                "pyrewrite: warning: {} event line(s) longer than {} MiB dropped, their \
                 connections closed\n",
                self.overlong,
                MAX_LINE >> 20
            );
        }
        if self.cut > 0 {
            s += &format!(
                "pyrewrite: warning: {} event connection(s) closed before a complete line (idle \
                 {} s, open over {} s, over {} open connections or {} MiB unfinished, or open \
                 at the end)\n",
                self.cut,
                IDLE_TIMEOUT.as_secs(),
                MAX_CONNECTION_TIME.as_secs(),
                max_open(),
                BUFFER_BUDGET >> 20
            );
        }
        if self.empty > 0 {
            s += &format!(
                "pyrewrite: warning: {} event connection(s) sent nothing\n",
                self.empty
            );
        }
        if self.accept_errors > 0 {
            s += &format!(
                "pyrewrite: warning: accepting event connections failed {} time(s) (descriptor \
                 limit?); those connections waited in the backlog\n",
                self.accept_errors
            );
        }
        s
    }
}

pub struct Collector {
    socket: PathBuf,
    stop: Arc<AtomicBool>,
    worker: Option<JoinHandle<Rejected>>,
}

impl Collector {
    /// Listen on `socket` (inside a private directory) and start the thread.
    pub fn start(socket: &Path) -> anyhow::Result<(Collector, Receiver<Box<Event>>)> {
        Collector::start_with(socket, max_open())
    }

    /// [`Collector::start`] with another cap on open connections.
    pub fn start_with(
        socket: &Path,
        max_open: usize,
    ) -> anyhow::Result<(Collector, Receiver<Box<Event>>)> {
        let listener = UnixListener::bind(socket)
            .with_context(|| format!("cannot listen on {}", socket.display()))?;
        listener.set_nonblocking(true)?;
        let (events_tx, events_rx) = crossbeam_channel::bounded(QUEUE);
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = Arc::clone(&stop);
        let worker = std::thread::Builder::new()
            .name("pyrewrite-socket".into())
            .spawn(move || Loop::new(listener, events_tx, max_open).run(&stop_flag))?;
        Ok((
            Collector {
                socket: socket.to_path_buf(),
                stop,
                worker: Some(worker),
            },
            events_rx,
        ))
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Accept every connection already made, read them all, then stop. When
    /// this returns, the receiver yields the remaining events and then ends.
    pub fn drain_and_stop(mut self) -> Rejected {
        self.stop.store(true, Ordering::SeqCst);
        let rejected = self
            .worker
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        let _ = std::fs::remove_file(&self.socket);
        rejected
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(handle) = self.worker.take() {
            let _ = handle.join();
        }
    }
}

/// [`MAX_OPEN`], or half the soft descriptor limit when that is lower.
pub fn max_open() -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a valid out-pointer.
    let soft = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
        usize::try_from(lim.rlim_cur).unwrap_or(usize::MAX)
    } else {
        1024
    };
    (soft.saturating_sub(32) / 2).clamp(8, MAX_OPEN)
}

struct Conn {
    stream: UnixStream,
    /// Bytes of the unfinished line.
    buf: Vec<u8>,
    /// How much of `buf` is known to hold no newline.
    scanned: usize,
    opened: Instant,
    last: Instant,
    got_bytes: bool,
    /// Whether a complete line came (an event or not).
    got_line: bool,
}

impl Conn {
    /// Whether closing it now cuts something short.
    fn unfinished(&self) -> bool {
        !self.buf.is_empty() || !self.got_line
    }
}

enum Status {
    /// Still open.
    Open,
    /// Ended by the client (EOF or an error).
    Ended,
    /// Closed by us (counted already).
    Dropped,
}

/// The start of a line that is not an event, for the warning: at most
/// [`SHOWN`] characters, control characters escaped (a hostile line must not
/// drive the user's terminal).
fn preview(line: &[u8]) -> String {
    let head = line.get(..SHOWN * 4).unwrap_or(line);
    let shown: String = String::from_utf8_lossy(head).chars().take(SHOWN).collect();
    let text: String = shown
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect();
    if shown.len() < line.len() {
        format!("{text} ...")
    } else {
        text
    }
}

/// Parses one line off the socket (without its newline; surrounding
/// whitespace allowed). `Ok(None)` for a blank line.
pub fn parse_line(line: &[u8]) -> Result<Option<Event>, serde_json::Error> {
    let text = line.trim_ascii();
    if text.is_empty() {
        return Ok(None);
    }
    serde_json::from_slice::<Event>(text).map(Some)
}

struct Loop {
    listener: UnixListener,
    events: Sender<Box<Event>>,
    conns: Vec<Conn>,
    buffered: usize,
    max_open: usize,
    rejected: Rejected,
    chunk: Vec<u8>,
    accept_warned: bool,
}

impl Loop {
    fn new(listener: UnixListener, events: Sender<Box<Event>>, max_open: usize) -> Loop {
        Loop {
            listener,
            events,
            conns: Vec::new(),
            buffered: 0,
            max_open,
            rejected: Rejected::default(),
            chunk: vec![0; CHUNK],
            accept_warned: false,
        }
    }

    fn run(mut self, stop: &AtomicBool) -> Rejected {
        let mut stop_seen: Option<Instant> = None;
        let mut fds: Vec<libc::pollfd> = Vec::new();
        loop {
            // Read the flag BEFORE accepting: a stop seen here means the
            // build has exited, so this pass takes every connection it made.
            if stop_seen.is_none() && stop.load(Ordering::SeqCst) {
                stop_seen = Some(Instant::now());
            }
            self.accept_pending();
            if let Some(t) = stop_seen {
                if self.conns.is_empty() {
                    break;
                }
                if t.elapsed() > MAX_CONNECTION_TIME {
                    let open = self.conns.iter().filter(|c| c.unfinished()).count();
                    self.rejected.cut += open as u64;
                    self.conns.clear();
                    self.buffered = 0;
                    break;
                }
            }
            fds.clear();
            fds.push(libc::pollfd {
                fd: self.listener.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
            fds.extend(self.conns.iter().map(|c| libc::pollfd {
                fd: c.stream.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            }));
            // SAFETY: `fds` is a valid array of its length for the call.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, POLL_MS) };
            if n > 0 {
                // Back to front, so removing a connection keeps the indices
                // of those not yet visited.
                for i in (0..self.conns.len()).rev() {
                    let ready = fds.get(i + 1).is_some_and(|p| p.revents != 0);
                    if ready {
                        self.read_and_settle(i);
                    }
                }
            }
            self.sweep();
        }
        self.rejected
    }

    /// Accept until the backlog is empty (the listener is non-blocking);
    /// each new connection is read at once: a preload's line is already
    /// waiting in it.
    fn accept_pending(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    self.rejected.connections += 1;
                    let now = Instant::now();
                    self.conns.push(Conn {
                        stream,
                        buf: Vec::new(),
                        scanned: 0,
                        opened: now,
                        last: now,
                        got_bytes: false,
                        got_line: false,
                    });
                    self.read_and_settle(self.conns.len() - 1);
                    if self.conns.len() > self.max_open {
                        self.evict_idlest();
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    // EMFILE and friends: the connection stays in the
                    // backlog, nothing is lost; back off briefly.
                    self.rejected.accept_errors += 1;
                    if !self.accept_warned {
                        self.accept_warned = true;
                        eprintln!("pyrewrite: warning: accepting an event connection: {e}");
                    }
                    std::thread::sleep(Duration::from_millis(POLL_MS as u64));
                    return;
                }
            }
        }
    }

    fn read_and_settle(&mut self, i: usize) {
        match self.read_conn(i) {
            Status::Open => {
                if self.buffered > BUFFER_BUDGET {
                    self.evict_largest();
                }
            }
            Status::Ended | Status::Dropped => self.close(i),
        }
    }

    fn close(&mut self, i: usize) {
        if i < self.conns.len() {
            let c = self.conns.swap_remove(i);
            self.buffered -= c.buf.len();
        }
    }

    /// Read what connection `i` has (a bounded amount per turn) and hand
    /// its complete lines on.
    fn read_conn(&mut self, i: usize) -> Status {
        for _ in 0..READS_PER_TURN {
            let Some(conn) = self.conns.get_mut(i) else {
                return Status::Dropped;
            };
            match conn.stream.read(&mut self.chunk) {
                Ok(0) => {
                    let rest = std::mem::take(&mut conn.buf);
                    let got_bytes = conn.got_bytes;
                    self.buffered -= rest.len();
                    if !got_bytes {
                        self.rejected.empty += 1;
                    } else if !rest.is_empty() {
                        // A last line without its newline: an event cut
                        // short is malformed, a complete one is taken.
                        self.line(&rest);
                    }
                    return Status::Ended;
                }
                Ok(n) => {
                    let data = self.chunk.get(..n).unwrap_or(&[]);
                    conn.got_bytes = true;
                    conn.last = Instant::now();
                    conn.buf.extend_from_slice(data);
                    self.buffered += n;
                    if let Some(r) = self.take_lines(i) {
                        return r;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Status::Open,
                Err(_) => {
                    if self.conns.get(i).is_some_and(Conn::unfinished) {
                        self.rejected.cut += 1;
                    }
                    return Status::Ended;
                }
            }
        }
        Status::Open
    }

    /// Parse the complete lines of connection `i`'s buffer; `Some` when the
    /// connection must close (a line over [`MAX_LINE`]).
    fn take_lines(&mut self, i: usize) -> Option<Status> {
        let conn = self.conns.get_mut(i)?;
        let mut buf = std::mem::take(&mut conn.buf);
        let mut start = 0;
        let mut from = conn.scanned;
        while let Some(pos) = buf
            .get(from..)
            .and_then(|b| b.iter().position(|&c| c == b'\n'))
        {
            let end = from + pos;
            let line = buf.get(start..end).unwrap_or(&[]);
            if line.len() > MAX_LINE {
                self.rejected.overlong += 1;
                self.buffered -= buf.len();
                return Some(Status::Dropped);
            }
            self.line(line);
            if let Some(c) = self.conns.get_mut(i) {
                c.got_line = true;
            }
            start = end + 1;
            from = start;
        }
        let consumed = start;
        buf.drain(..consumed);
        self.buffered -= consumed;
        if buf.len() > MAX_LINE {
            self.rejected.overlong += 1;
            self.buffered -= buf.len();
            return Some(Status::Dropped);
        }
        let conn = self.conns.get_mut(i)?;
        conn.scanned = buf.len();
        conn.buf = buf;
        None
    }

    fn line(&mut self, line: &[u8]) {
        match parse_line(line) {
            Ok(Some(event)) => {
                // The consumer ends only after this thread does.
                let _ = self.events.send(Box::new(event));
            }
            Ok(None) => {}
            Err(_) => {
                self.rejected.malformed += 1;
                if self.rejected.first_malformed.is_none() {
                    self.rejected.first_malformed = Some(preview(line.trim_ascii()));
                }
            }
        }
    }

    /// Over the connection cap: close the one that has been quiet longest.
    fn evict_idlest(&mut self) {
        let oldest = (0..self.conns.len()).min_by_key(|&i| self.conns.get(i).map(|c| c.last));
        if let Some(i) = oldest {
            if self.conns.get(i).is_some_and(Conn::unfinished) {
                self.rejected.cut += 1;
            }
            self.close(i);
        }
    }

    /// Over the buffer budget: close the connection holding the most.
    fn evict_largest(&mut self) {
        while self.buffered > BUFFER_BUDGET {
            let largest =
                (0..self.conns.len()).max_by_key(|&i| self.conns.get(i).map_or(0, |c| c.buf.len()));
            match largest {
                Some(i) => {
                    self.rejected.cut += 1;
                    self.close(i);
                }
                None => return,
            }
        }
    }

    /// Close connections idle too long or open too long.
    fn sweep(&mut self) {
        let now = Instant::now();
        for i in (0..self.conns.len()).rev() {
            let expired = self.conns.get(i).is_some_and(|c| {
                now.duration_since(c.last) > IDLE_TIMEOUT
                    || now.duration_since(c.opened) > MAX_CONNECTION_TIME
            });
            if expired {
                if self.conns.get(i).is_some_and(Conn::unfinished) {
                    self.rejected.cut += 1;
                }
                self.close(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::fsutil::PrivateDir;
    use pyrewrite_protocol::Action;
    use std::io::Write;

    fn ev(pid: i32) -> Event {
        Event {
            pid,
            ..crate::test_support::event(Action::Passthrough, Some("cc"), "gcc -c a.c", None)
        }
    }

    fn send(sock: &Path, bytes: &[u8]) {
        let mut s = UnixStream::connect(sock).unwrap();
        s.write_all(bytes).unwrap();
    }

    fn pids(rx: Receiver<Box<Event>>) -> Vec<i32> {
        let mut pids: Vec<i32> = rx.iter().map(|e| e.pid).collect();
        pids.sort();
        pids
    }

    #[test]
    fn every_connection_made_before_stop_is_delivered() {
        let dir = PrivateDir::new("pyrewrite-test-").unwrap();
        let sock = dir.path().join("events.sock");
        let (collector, rx) = Collector::start(&sock).unwrap();
        let clients: Vec<_> = (0..8)
            .map(|t| {
                let sock = sock.clone();
                std::thread::spawn(move || {
                    for i in 0..100 {
                        send(&sock, ev(t * 1000 + i).to_json_line().as_bytes());
                    }
                })
            })
            .collect();
        for c in clients {
            c.join().unwrap();
        }
        // One broken client: its line is reported, not lost or fatal.
        send(&sock, b"not json\n");
        let rejected = collector.drain_and_stop();
        let mut got = pids(rx);
        got.dedup();
        assert_eq!(got.len(), 800);
        assert_eq!(rejected.malformed, 1);
        assert_eq!(rejected.first_malformed.as_deref(), Some("not json"));
        assert_eq!(rejected.connections, 801);
        assert!(!sock.exists(), "socket left behind");
    }

    #[test]
    fn bad_input_is_counted_and_the_good_lines_around_it_are_taken() {
        let dir = PrivateDir::new("pyrewrite-test-").unwrap();
        let sock = dir.path().join("events.sock");
        let (collector, rx) = Collector::start(&sock).unwrap();
        let good = |pid| ev(pid).to_json_line().into_bytes();
        // Invalid UTF-8 inside a JSON string, then a good line.
        let mut bad_utf8 = good(1);
        bad_utf8.splice(20..20, [0xc3, 0x28, 0xff]);
        send(&sock, &[&bad_utf8[..], &good(2)].concat());
        // A truncated event: the connection ends mid-line.
        let g = good(3);
        send(&sock, &g[..g.len() / 2]);
        // Binary garbage (NULs, high bytes, no newline until the end).
        let garbage: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8 + 1).collect();
        let garbage: Vec<u8> = garbage.into_iter().filter(|&b| b != b'\n').collect();
        send(&sock, &[&garbage[..], b"\n", &good(4)].concat());
        // JSON, but not an event.
        send(&sock, b"{\"pid\": \"x\"}\n[1,2,3]\n");
        // Blank lines are no events and no errors.
        send(&sock, &[b"\n \r\n".as_slice(), &good(5)].concat());
        // A complete event without its newline is taken.
        send(&sock, good(6).trim_ascii_end());
        // Over-long: a line of MAX_LINE + 1 bytes is dropped once it is that
        // long, its connection closed; the rest never read.
        let mut long = vec![b'x'; MAX_LINE + 1];
        long.extend_from_slice(b"\n");
        long.extend_from_slice(&good(7));
        // The driver may close before all of it is written.
        let _ = UnixStream::connect(&sock).unwrap().write_all(&long);
        // Nothing at all.
        drop(UnixStream::connect(&sock).unwrap());
        let rejected = collector.drain_and_stop();
        assert_eq!(pids(rx), [2, 4, 5, 6]);
        assert_eq!(rejected.malformed, 5, "{rejected:?}");
        assert_eq!(rejected.overlong, 1);
        assert_eq!(rejected.empty, 1);
        assert_eq!(rejected.cut, 0);
        let text = rejected.render();
        assert!(text.contains("5 malformed event line(s)"), "{text}");
        assert!(
            text.contains("1 event line(s) longer than 16 MiB dropped"),
            "{text}"
        );
        assert!(
            text.contains("1 event connection(s) sent nothing"),
            "{text}"
        );
        // The first bad line is shown, cut to a screenful.
        let first = rejected.first_malformed.unwrap();
        assert!(first.starts_with("{\"pid\":1,"), "{first}");
        assert!(first.chars().count() <= SHOWN + 4, "{first}");
        assert_eq!(preview(b"\x1b[2J\tx\x07"), "\\u{1b}[2J\\tx\\u{7}");
    }

    #[test]
    fn held_connections_over_the_cap_are_closed_and_events_keep_flowing() {
        let dir = PrivateDir::new("pyrewrite-test-").unwrap();
        let sock = dir.path().join("events.sock");
        let cap = 64;
        let (collector, rx) = Collector::start_with(&sock, cap).unwrap();
        // Twice the cap, held idle, each with half a line in it.
        let held: Vec<UnixStream> = (0..2 * cap)
            .map(|_| {
                let mut s = UnixStream::connect(&sock).unwrap();
                s.write_all(b"{\"pid\":").unwrap();
                s
            })
            .collect();
        for pid in 0..200 {
            send(&sock, ev(pid).to_json_line().as_bytes());
        }
        let start = Instant::now();
        let rejected = collector.drain_and_stop();
        let waited = start.elapsed();
        drop(held);
        assert_eq!(pids(rx), (0..200).collect::<Vec<_>>());
        assert_eq!(rejected.cut, 2 * cap as u64, "{rejected:?}");
        // The drain waits for the held ones only until they are idle too long.
        assert!(
            waited < MAX_CONNECTION_TIME + Duration::from_secs(5),
            "{waited:?}"
        );
    }

    /// Property tests of the event-line parser and the socket's framing
    /// (RELIABILITY.md, "Fuzzing").
    mod props {
        use super::*;
        use crate::test_support::proptest_config;
        use proptest::prelude::*;

        fn event() -> impl Strategy<Value = Event> {
            let strings = || prop::collection::vec(any::<String>(), 0..6);
            let action = prop::sample::select(
                &[
                    Action::Passthrough,
                    Action::Rewrite,
                    Action::Answer,
                    Action::Refuse,
                ][..],
            );
            (
                (any::<i32>(), any::<i32>(), any::<String>(), any::<String>()),
                (
                    any::<String>(),
                    strings(),
                    action,
                    prop::option::of(strings()),
                ),
                (
                    prop::option::of(any::<String>()),
                    prop::option::of(any::<String>()),
                    any::<f64>().prop_filter("finite", |t| t.is_finite()),
                ),
            )
                .prop_map(
                    |(
                        (pid, ppid, cwd, function),
                        (path, argv, action, new_argv),
                        (tool, reason, time),
                    )| {
                        Event {
                            pid,
                            ppid,
                            cwd,
                            function,
                            path,
                            argv,
                            action,
                            new_argv,
                            tool,
                            reason,
                            time,
                        }
                    },
                )
        }

        proptest! {
            #![proptest_config(proptest_config(256))]

            /// Any bytes: no panic; what parses is an event that reads back
            /// the same after writing.
            #[test]
            fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
                if let Ok(Some(e)) = parse_line(&bytes) {
                    prop_assert_eq!(parse_line(e.to_json_line().as_bytes()).unwrap(), Some(e));
                }
            }

            /// A written event is one line and parses back equal.
            #[test]
            fn a_serialized_event_parses_back_equal(e in event()) {
                let line = e.to_json_line();
                prop_assert_eq!(line.matches('\n').count(), 1);
                prop_assert!(line.ends_with('\n'));
                prop_assert_eq!(parse_line(line.as_bytes()).unwrap(), Some(e.clone()));
                prop_assert_eq!(Event::from_json_line(&line).unwrap(), e);
            }

            /// An event line damaged anywhere: no panic, and never taken
            /// for an event it was not (a damaged line that still parses
            /// parses to what it says).
            #[test]
            fn a_damaged_event_line_never_panics(
                e in event(),
                at in any::<prop::sample::Index>(),
                byte in any::<u8>(),
                cut in any::<bool>(),
            ) {
                let mut line = e.to_json_line().into_bytes();
                let i = at.index(line.len());
                if cut { line.truncate(i) } else { line[i] = byte }
                if let Ok(Some(parsed)) = parse_line(&line) {
                    prop_assert_eq!(parse_line(parsed.to_json_line().as_bytes()).unwrap(), Some(parsed));
                }
            }
        }

        #[derive(Debug, Clone)]
        enum Item {
            Good(Event),
            Garbage(Vec<u8>),
        }

        proptest! {
            #![proptest_config(proptest_config(24))]

            /// Events and garbage lines on one connection, written in
            /// chunks of any size: every event arrives in order, every
            /// non-blank garbage line is counted, nothing else.
            #[test]
            fn a_stream_of_events_and_garbage_is_framed_and_counted(
                items in prop::collection::vec(prop_oneof![
                    event().prop_map(Item::Good),
                    prop::collection::vec(any::<u8>().prop_filter("no newline", |b| *b != b'\n'), 0..300)
                        .prop_map(Item::Garbage),
                ], 0..16),
                chunk in 1usize..5000,
            ) {
                let mut stream = Vec::new();
                let mut want_events = Vec::new();
                let mut want_malformed = 0;
                for item in &items {
                    match item {
                        Item::Good(e) => {
                            stream.extend_from_slice(e.to_json_line().as_bytes());
                            want_events.push(e.clone());
                        }
                        Item::Garbage(g) => {
                            stream.extend_from_slice(g);
                            stream.push(b'\n');
                            match parse_line(g) {
                                Ok(Some(e)) => want_events.push(e),
                                Ok(None) => {}
                                Err(_) => want_malformed += 1,
                            }
                        }
                    }
                }
                let dir = PrivateDir::new("pyrewrite-test-").unwrap();
                let sock = dir.path().join("events.sock");
                let (collector, rx) = Collector::start(&sock).unwrap();
                let mut conn = UnixStream::connect(&sock).unwrap();
                for piece in stream.chunks(chunk) {
                    conn.write_all(piece).unwrap();
                    conn.flush().unwrap();
                }
                drop(conn);
                let rejected = collector.drain_and_stop();
                let got: Vec<Event> = rx.iter().map(|b| *b).collect();
                prop_assert_eq!(got, want_events);
                prop_assert_eq!(rejected.malformed, want_malformed);
                prop_assert_eq!(rejected.cut + rejected.overlong, 0);
            }
        }
    }
}
