//! Delivery of one event line: to the driver's socket, bounded in time, else
//! appended to the events file.
//!
//! The socket is the driver's, and a driver can stop reading (SIGSTOP, a
//! hung reader, a backlog full of connections nobody accepts). A blocking
//! `connect` or `send` would then hang the exec, and with it the build. So
//! the socket is non-blocking and the exec waits at most
//! `pyrewrite_protocol::socket::DEADLINE_MS` for the driver (retrying a full
//! backlog with short sleeps, `poll`ing a full send buffer). An event that
//! misses the deadline, or fails, is dropped and counted: one byte appended
//! to `<socket>.lost` (`socket::LOST_SUFFIX`), which the driver reports.
//! Waiting once per stall, not once per exec: after a timeout the process
//! remembers that the driver is stalled and drops its later events at once,
//! and any process that meets a full backlog or send buffer drops at once
//! when `<socket>.lost` was written less than two deadlines ago (one `stat`,
//! only on that slow path). A driver that recovers takes events again: its
//! connects succeed without waiting.
//!
//! Only async-signal-safe calls (`socket connect send poll close open write
//! clock_gettime stat`), small stack buffers, and one atomic flag: this runs in vfork
//! children and signal handlers. `MSG_NOSIGNAL`: a vanished driver cannot
//! kill the build with SIGPIPE. The caller preserves `errno`.

use crate::small::put;
use crate::sys::errno;
use core::ffi::CStr;
use core::sync::atomic::{AtomicBool, Ordering};
use libc::{c_char, c_int};
use pyrewrite_protocol::socket::{DEADLINE_MS, LOST_SUFFIX};

/// Set when a delivery from this process timed out: the driver is not
/// taking events; later ones are dropped without waiting.
static DRIVER_STALLED: AtomicBool = AtomicBool::new(false);

/// The longest sleep between two connects to a full backlog.
const MAX_BACKOFF_MS: i64 = 32;

/// An event lost less than this long ago means the driver is stalled.
const STALL_WINDOW_MS: i64 = 2 * DEADLINE_MS;

/// Send `line` to the driver's socket at `path`, or count it as lost.
pub fn send_socket(path: &CStr, line: &[u8]) {
    if DRIVER_STALLED.load(Ordering::Relaxed) {
        count_lost(path);
        return;
    }
    match try_send(path, line) {
        Outcome::Delivered => {}
        Outcome::TimedOut => {
            DRIVER_STALLED.store(true, Ordering::Relaxed);
            count_lost(path);
        }
        Outcome::Failed => count_lost(path),
    }
}

enum Outcome {
    Delivered,
    TimedOut,
    Failed,
}

fn try_send(path: &CStr, line: &[u8]) -> Outcome {
    let bytes = path.to_bytes();
    // SAFETY: a zeroed sockaddr_un is valid.
    let mut addr: libc::sockaddr_un = unsafe { core::mem::zeroed() };
    if bytes.len() >= addr.sun_path.len() {
        return Outcome::Failed;
    }
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (d, &b) in addr.sun_path.iter_mut().zip(bytes) {
        *d = b as c_char;
    }
    let deadline = now_ms().saturating_add(DEADLINE_MS);
    let flags = libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK;
    // SAFETY: plain socket syscalls on a local fd, closed below.
    let fd = unsafe { libc::socket(libc::AF_UNIX, flags, 0) };
    if fd < 0 {
        return Outcome::Failed;
    }
    let outcome = match connect(fd, &addr, deadline, path) {
        Outcome::Delivered => send_all(fd, line, deadline, path),
        other => other,
    };
    // SAFETY: our own fd.
    unsafe { libc::close(fd) };
    outcome
}

/// Connect within the deadline (`Delivered` means connected).
fn connect(fd: c_int, addr: &libc::sockaddr_un, deadline: i64, socket: &CStr) -> Outcome {
    let len = core::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
    let mut backoff = 1;
    loop {
        // SAFETY: a valid address of the given length.
        if unsafe { libc::connect(fd, (addr as *const libc::sockaddr_un).cast(), len) } == 0 {
            return Outcome::Delivered;
        }
        match errno() {
            libc::EINTR => {}
            // A full backlog: Unix sockets say so at once, without queueing
            // the caller; try again shortly.
            libc::EAGAIN => {
                let left = deadline.saturating_sub(now_ms());
                if left <= 0 || stalled_elsewhere(socket) {
                    return Outcome::TimedOut;
                }
                sleep_ms(backoff.min(left));
                backoff = (backoff * 2).min(MAX_BACKOFF_MS);
            }
            libc::EINPROGRESS => {
                return match wait_writable(fd, deadline) {
                    Some(true) if socket_error(fd) == 0 => Outcome::Delivered,
                    Some(_) => Outcome::Failed,
                    None => Outcome::TimedOut,
                };
            }
            _ => return Outcome::Failed,
        }
    }
}

fn send_all(fd: c_int, line: &[u8], deadline: i64, socket: &CStr) -> Outcome {
    let mut rest = line;
    while !rest.is_empty() {
        let flags = libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT;
        // SAFETY: valid buffer of the given length.
        let n = unsafe { libc::send(fd, rest.as_ptr().cast(), rest.len(), flags) };
        if n > 0 {
            rest = rest.get(n as usize..).unwrap_or(b"");
            continue;
        }
        match errno() {
            libc::EINTR => {}
            libc::EAGAIN if stalled_elsewhere(socket) => return Outcome::TimedOut,
            libc::EAGAIN => match wait_writable(fd, deadline) {
                Some(true) => {}
                Some(false) => return Outcome::Failed,
                None => return Outcome::TimedOut,
            },
            _ => return Outcome::Failed,
        }
    }
    Outcome::Delivered
}

/// `Some(true)` when `fd` is writable, `Some(false)` on an error or hang-up,
/// `None` when the deadline passed first.
fn wait_writable(fd: c_int, deadline: i64) -> Option<bool> {
    loop {
        let left = deadline.saturating_sub(now_ms());
        if left <= 0 {
            return None;
        }
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLOUT,
            revents: 0,
        };
        let timeout = c_int::try_from(left).unwrap_or(c_int::MAX);
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&mut p, 1, timeout) };
        if rc > 0 {
            return Some(p.revents & libc::POLLOUT != 0 && p.revents & libc::POLLERR == 0);
        }
        if rc < 0 && errno() != libc::EINTR {
            return Some(false);
        }
    }
}

fn socket_error(fd: c_int) -> c_int {
    let mut err: c_int = 0;
    let mut len = core::mem::size_of::<c_int>() as libc::socklen_t;
    // SAFETY: an int-sized option into an int.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            (&raw mut err).cast(),
            &mut len,
        )
    };
    if rc == 0 {
        err
    } else {
        -1
    }
}

/// Room for `<socket>.lost`: a socket path longer than `sun_path` (108
/// bytes) cannot be connected to, and the driver's is far shorter. Small on
/// purpose: this is the signal-stack budget's slow path (docs/preload.md).
const LOST_PATH_MAX: usize = 128;

/// Whether another process lost an event to this driver within
/// [`STALL_WINDOW_MS`]: `<socket>.lost` was written that recently.
fn stalled_elsewhere(socket: &CStr) -> bool {
    let mut buf = [0u8; LOST_PATH_MAX];
    let Some(path) = lost_path(socket, &mut buf) else {
        return false;
    };
    // SAFETY: a zeroed stat is valid; the path is NUL-terminated.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    if unsafe { libc::stat(path.as_ptr(), &mut st) } != 0 {
        return false;
    }
    let written = st
        .st_mtime
        .saturating_mul(1000)
        .saturating_add(st.st_mtime_nsec / 1_000_000);
    now_on(libc::CLOCK_REALTIME).saturating_sub(written) < STALL_WINDOW_MS
}

/// Milliseconds on the monotonic clock.
fn now_ms() -> i64 {
    now_on(libc::CLOCK_MONOTONIC)
}

fn now_on(clock: libc::clockid_t) -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec; both clocks always exist on Linux.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec
        .saturating_mul(1000)
        .saturating_add(ts.tv_nsec / 1_000_000)
}

fn sleep_ms(ms: i64) {
    let ms = c_int::try_from(ms).unwrap_or(c_int::MAX);
    // SAFETY: poll with no descriptors is a plain sleep.
    unsafe { libc::poll(core::ptr::null_mut(), 0, ms) };
}

/// `<socket>.lost`, NUL-terminated, in `buf`.
fn lost_path<'b>(socket: &CStr, buf: &'b mut [u8; LOST_PATH_MAX]) -> Option<&'b CStr> {
    let end = put(buf, 0, socket.to_bytes())
        .and_then(|n| put(buf, n, LOST_SUFFIX.as_bytes()))
        .and_then(|n| put(buf, n, b"\0"))?;
    CStr::from_bytes_with_nul(buf.get(..end)?).ok()
}

/// One byte appended to `<socket>.lost`: the driver's count of dropped events.
fn count_lost(socket: &CStr) {
    let mut buf = [0u8; LOST_PATH_MAX];
    if let Some(path) = lost_path(socket, &mut buf) {
        append_byte(path);
    }
}

fn append_byte(path: &CStr) {
    // SAFETY: plain file syscalls on a local fd, closed on every path.
    unsafe {
        let fd = libc::open(
            path.as_ptr(),
            libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_CLOEXEC,
            0o600 as libc::c_uint,
        );
        if fd < 0 {
            return;
        }
        let _ = libc::write(fd, b"x".as_ptr().cast(), 1);
        libc::close(fd);
    }
}

/// Append `line` to the events file (one `write` on an `O_APPEND` file, so
/// concurrent processes never interleave).
pub fn append_file(path: &CStr, line: &[u8]) {
    // SAFETY: plain file syscalls on a local fd, closed on every path.
    unsafe {
        let fd = libc::open(
            path.as_ptr(),
            libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_CLOEXEC,
            0o644 as libc::c_uint,
        );
        if fd < 0 {
            return;
        }
        let _ = libc::write(fd, line.as_ptr().cast(), line.len());
        libc::close(fd);
    }
}
