//! The event collector: a Unix socket that every preloaded process of the
//! build connects to, once per exec, to write one JSON line.
//!
//! Threads: one accept loop hands connections to a few reader threads, which
//! parse lines and send them into one channel; the caller owns the single
//! consumer. Draining is what makes it lossless: the preload connects before
//! the exec it reports, and build tools wait for their children, so when the
//! build command exits every connection has already been made and sits
//! accepted or in the listen backlog. [`Collector::drain_and_stop`] accepts
//! until the backlog is empty, then lets the readers finish those connections.

use anyhow::Context;
use crossbeam_channel::{Receiver, Sender};
use pyrewrite_protocol::Event;
use std::io::{BufRead, BufReader};
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Reader threads: connections are tiny and short, a few readers keep up
/// with `make -j` on many cores without a thread per exec.
const READERS: usize = 4;
/// How often the accept loop looks at the stop flag while idle.
const POLL_MS: i32 = 50;
/// A connection that sends nothing for this long is abandoned (a stopped or
/// broken client must not hang the end of the session).
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// What the readers deliver to the consumer.
#[derive(Debug)]
pub enum Incoming {
    Event(Box<Event>),
    /// A line that is not an event, kept for the warning in the summary.
    Malformed(String),
}

pub struct Collector {
    socket: PathBuf,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl Collector {
    /// Listen on `socket` (inside a private directory) and start the threads.
    pub fn start(socket: &Path) -> anyhow::Result<(Collector, Receiver<Incoming>)> {
        let listener = UnixListener::bind(socket)
            .with_context(|| format!("cannot listen on {}", socket.display()))?;
        listener.set_nonblocking(true)?;
        let (events_tx, events_rx) = crossbeam_channel::unbounded();
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = Arc::clone(&stop);
        let acceptor = std::thread::Builder::new()
            .name("pyrewrite-accept".into())
            .spawn(move || accept_loop(listener, stop_flag, events_tx))?;
        Ok((
            Collector {
                socket: socket.to_path_buf(),
                stop,
                acceptor: Some(acceptor),
            },
            events_rx,
        ))
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Accept every connection already made, read them all, then stop. When
    /// this returns, the receiver yields the remaining events and then ends.
    pub fn drain_and_stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(handle) = self.acceptor.take() {
            let _ = handle.join();
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(handle) = self.acceptor.take() {
            let _ = handle.join();
        }
    }
}

fn accept_loop(listener: UnixListener, stop: Arc<AtomicBool>, events: Sender<Incoming>) {
    let (conn_tx, conn_rx) = crossbeam_channel::unbounded::<UnixStream>();
    let readers: Vec<JoinHandle<()>> = (0..READERS)
        .filter_map(|i| {
            let conns = conn_rx.clone();
            let events = events.clone();
            std::thread::Builder::new()
                .name(format!("pyrewrite-read-{i}"))
                .spawn(move || {
                    for stream in conns {
                        read_connection(stream, &events);
                    }
                })
                .ok()
        })
        .collect();
    drop(conn_rx);
    drop(events);
    loop {
        // Read the flag BEFORE draining: a stop seen here means the build has
        // exited, so the drain below picks up every connection it made.
        let stopping = stop.load(Ordering::SeqCst);
        accept_pending(&listener, &conn_tx);
        if stopping {
            break;
        }
        wait_readable(&listener);
    }
    drop(listener);
    drop(conn_tx);
    for r in readers {
        let _ = r.join();
    }
}

/// Accept until the backlog is empty (the listener is non-blocking).
fn accept_pending(listener: &UnixListener, conns: &Sender<UnixStream>) {
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
                let _ = conns.send(stream);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
            Err(e) => {
                // EMFILE and friends: back off briefly and let the poll retry;
                // the connection stays in the backlog, nothing is lost.
                eprintln!("pyrewrite: warning: accepting an event connection: {e}");
                std::thread::sleep(Duration::from_millis(POLL_MS as u64));
                return;
            }
        }
    }
}

fn wait_readable(listener: &UnixListener) {
    let mut fd = libc::pollfd {
        fd: listener.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the duration of the call.
    unsafe { libc::poll(&mut fd, 1, POLL_MS) };
}

fn read_connection(stream: UnixStream, events: &Sender<Incoming>) {
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => return,
            Ok(_) => {
                let text = line.trim_ascii();
                if text.is_empty() {
                    continue;
                }
                let item = match serde_json::from_slice::<Event>(text) {
                    Ok(e) => Incoming::Event(Box::new(e)),
                    Err(_) => Incoming::Malformed(String::from_utf8_lossy(text).into_owned()),
                };
                if events.send(item).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return,
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
                        let mut s = UnixStream::connect(&sock).unwrap();
                        s.write_all(ev(t * 1000 + i).to_json_line().as_bytes())
                            .unwrap();
                    }
                })
            })
            .collect();
        for c in clients {
            c.join().unwrap();
        }
        // One broken client: its line is reported, not lost or fatal.
        UnixStream::connect(&sock)
            .unwrap()
            .write_all(b"not json\n")
            .unwrap();
        collector.drain_and_stop();
        let mut pids = Vec::new();
        let mut malformed = 0;
        for item in rx {
            match item {
                Incoming::Event(e) => pids.push(e.pid),
                Incoming::Malformed(_) => malformed += 1,
            }
        }
        pids.sort();
        pids.dedup();
        assert_eq!(pids.len(), 800);
        assert_eq!(malformed, 1);
        assert!(!sock.exists(), "socket left behind");
    }
}
