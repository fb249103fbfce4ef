//! One JSON line per exec, sent before the exec (the image is gone after).
//!
//! The line is written by hand into a stack buffer instead of building a
//! `pyrewrite_protocol::Event` (a dozen heap strings) and serialising it: the
//! exec path may run in a vfork child, where heap blocks are shared with the
//! parent. Field names and order are those of `Event`; a unit test parses our
//! lines back into `Event` (`Event::from_json_line`) so the two cannot drift.
//!
//! Transport (src/transport.rs): `PYREWRITE_SOCKET` (one connection per
//! event, waiting at most a short deadline for the driver, what is dropped
//! counted), else `PYREWRITE_EVENTS` (one `write` on an `O_APPEND` file),
//! else nothing. Failures never change the build. `errno` is preserved.

use crate::session::Session;
use crate::small::SmallVec;
use crate::sys::{errno, set_errno, NoCancel};
use core::ffi::CStr;
use libc::c_char;
use pyrewrite_protocol::Action;

/// Stack room for the event line; a longer line moves to a mapping
/// (`small::SmallVec`: mmap, munmap before the exec). Short passthrough
/// lines fit; compiler lines rarely do (a compile is slow anyway). Sized for
/// the 8 KiB signal-stack budget (docs/preload.md, "A small, fixed stack").
const LINE_STACK: usize = 384;

/// A NULL-terminated `char *const argv[]`, read without copying.
#[derive(Clone, Copy)]
pub struct CArgv(pub *const *const c_char);

impl CArgv {
    pub fn iter(self) -> impl Iterator<Item = &'static [u8]> {
        let mut p = self.0;
        core::iter::from_fn(move || {
            // SAFETY: callers pass NULL or a NULL-terminated array of C strings.
            unsafe {
                if p.is_null() || (*p).is_null() {
                    return None;
                }
                let s = CStr::from_ptr(*p).to_bytes();
                p = p.add(1);
                Some(s)
            }
        })
    }

    pub fn first(self) -> Option<&'static [u8]> {
        self.iter().next()
    }

    /// argv[1], which names the script when an interpreter runs one.
    pub fn second(self) -> Option<&'static [u8]> {
        self.iter().nth(1)
    }
}

/// What is reported for one exec; borrowed, nothing owned.
pub struct Report<'a> {
    pub function: &'a str,
    pub path: &'a [u8],
    pub argv: CArgv,
    pub action: Action,
    pub new_argv: Option<CArgv>,
    pub tool: Option<&'a str>,
    pub reason: Option<&'a [u8]>,
}

/// Sends the event (if the session reports) and explains it (if debugging).
#[inline(never)]
pub fn send(s: &Session, r: &Report) {
    if !s.reporting() && !s.debug() {
        return;
    }
    let saved = errno();
    // No cancellation while a descriptor or a mapping is ours (sys::NoCancel).
    let no_cancel = NoCancel::new();
    if s.reporting() {
        let mut line: SmallVec<u8, LINE_STACK> = SmallVec::new();
        write_line(&mut line, r, &Process::current());
        deliver(s, line.as_slice());
    }
    if s.debug() {
        debug(r);
    }
    drop(no_cancel);
    set_errno(saved);
}

/// Where and when the exec happens.
pub struct Process<'a> {
    pub pid: i32,
    pub ppid: i32,
    pub cwd: &'a [u8],
    pub time_us: i64,
}

impl Process<'static> {
    fn current() -> Process<'static> {
        // SAFETY: plain syscalls.
        let (pid, ppid) = unsafe { (libc::getpid(), libc::getppid()) };
        let mut ts: libc::timespec = unsafe { core::mem::zeroed() };
        unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
        Process {
            pid,
            ppid,
            cwd: b"",
            time_us: ts.tv_sec * 1_000_000 + ts.tv_nsec / 1000,
        }
    }
}

/// Appends the JSON line for `r` (newline-terminated) to `out`.
pub fn write_line<const N: usize>(out: &mut SmallVec<u8, N>, r: &Report, p: &Process) {
    out.extend_from_slice(b"{\"pid\":");
    out.push_int(i64::from(p.pid));
    out.extend_from_slice(b",\"ppid\":");
    out.push_int(i64::from(p.ppid));
    out.extend_from_slice(b",\"cwd\":");
    if p.cwd.is_empty() {
        push_current_dir(out);
    } else {
        string(out, p.cwd);
    }
    out.extend_from_slice(b",\"function\":");
    string(out, r.function.as_bytes());
    out.extend_from_slice(b",\"path\":");
    string(out, r.path);
    out.extend_from_slice(b",\"argv\":");
    array(out, r.argv);
    out.extend_from_slice(b",\"action\":");
    string(out, r.action.as_str().as_bytes());
    out.extend_from_slice(b",\"new_argv\":");
    match r.new_argv {
        Some(a) => array(out, a),
        None => out.extend_from_slice(b"null"),
    }
    if let Some(tool) = r.tool {
        out.extend_from_slice(b",\"tool\":");
        string(out, tool.as_bytes());
    }
    if let Some(reason) = r.reason {
        out.extend_from_slice(b",\"reason\":");
        string(out, reason);
    }
    out.extend_from_slice(b",\"time\":");
    out.push_int(p.time_us / 1_000_000);
    out.push(b'.');
    let frac = p.time_us % 1_000_000;
    let mut digits = [b'0'; 6];
    let mut f = frac;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (f % 10) as u8;
        f /= 10;
    }
    out.extend_from_slice(&digits);
    out.extend_from_slice(b"}\n");
}

/// The working directory as a JSON string (empty when it cannot be read).
/// `getcwd` writes straight into the line, which needs no other buffer;
/// only a directory name that must be escaped is copied out first.
fn push_current_dir<const N: usize>(out: &mut SmallVec<u8, N>) {
    out.push(b'"');
    let mark = out.len();
    let mut room = 256;
    loop {
        let spare = out.spare(room);
        // SAFETY: a writable buffer of `spare.len()` bytes.
        let ok = unsafe { libc::getcwd(spare.as_mut_ptr().cast(), spare.len()) };
        if !ok.is_null() {
            // SAFETY: getcwd wrote a NUL-terminated string there.
            let n = unsafe { CStr::from_ptr(ok) }.to_bytes().len();
            // SAFETY: those `n` bytes were written.
            unsafe { out.add_len(n) };
            break;
        }
        if errno() != libc::ERANGE || room >= 1 << 16 {
            break;
        }
        room *= 4;
    }
    let raw = out.as_slice().get(mark..).unwrap_or(b"");
    let plain = core::str::from_utf8(raw)
        .is_ok_and(|t| !t.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\'));
    if plain {
        out.push(b'"');
        return;
    }
    let mut copy: SmallVec<u8, 1> = SmallVec::new();
    copy.extend_from_slice(raw);
    out.truncate(mark - 1);
    string(out, copy.as_slice());
}

fn array<const N: usize>(out: &mut SmallVec<u8, N>, argv: CArgv) {
    out.push(b'[');
    for (i, a) in argv.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, a);
    }
    out.push(b']');
}

/// A JSON string; bytes that are not UTF-8 become U+FFFD, as `String::from_utf8_lossy`.
fn string<const N: usize>(out: &mut SmallVec<u8, N>, s: &[u8]) {
    out.push(b'"');
    for chunk in s.utf8_chunks() {
        let valid = chunk.valid().as_bytes();
        let mut start = 0;
        for (i, &b) in valid.iter().enumerate() {
            let esc: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0..=0x1f => b"",
                _ => continue,
            };
            out.extend_from_slice(valid.get(start..i).unwrap_or(b""));
            if esc.is_empty() {
                out.extend_from_slice(&[b'\\', b'u', b'0', b'0', hex(b >> 4), hex(b & 15)]);
            } else {
                out.extend_from_slice(esc);
            }
            start = i + 1;
        }
        out.extend_from_slice(valid.get(start..).unwrap_or(b""));
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{FFFD}".as_bytes());
        }
    }
    out.push(b'"');
}

/// The lowercase hex digit of a nibble (`n < 16`).
fn hex(n: u8) -> u8 {
    b"0123456789abcdef"
        .get(usize::from(n))
        .copied()
        .unwrap_or(b'0')
}

fn deliver(s: &Session, line: &[u8]) {
    if let Some(sock) = s.socket() {
        crate::transport::send_socket(sock, line);
    } else if let Some(file) = s.events() {
        crate::transport::append_file(file, line);
    }
}

fn debug(r: &Report) {
    let mut msg: SmallVec<u8, 256> = SmallVec::new();
    msg.extend_from_slice(b"pyrewrite: ");
    msg.extend_from_slice(r.function.as_bytes());
    msg.push(b' ');
    msg.extend_from_slice(r.path);
    msg.extend_from_slice(b" -> ");
    msg.extend_from_slice(r.action.as_str().as_bytes());
    if let Some(new) = r.new_argv.and_then(CArgv::first) {
        msg.push(b' ');
        msg.extend_from_slice(new);
    }
    if let Some(reason) = r.reason {
        msg.extend_from_slice(b" (");
        msg.extend_from_slice(reason);
        msg.push(b')');
    }
    msg.push(b'\n');
    let _ = crate::sys::write_all(2, msg.as_slice());
}

#[cfg(test)]
mod tests {
    use super::*;
    use pyrewrite_protocol::Event;

    /// A passthrough report of `execve("/bin/true", argv)`.
    fn passthrough_of_true(argv: &[*const c_char]) -> Report<'static> {
        Report {
            function: "execve",
            path: b"/bin/true",
            argv: CArgv(argv.as_ptr()),
            action: Action::Passthrough,
            new_argv: None,
            tool: None,
            reason: None,
        }
    }

    fn cstrings(v: &[&[u8]]) -> (Vec<std::ffi::CString>, Vec<*const c_char>) {
        let owned: Vec<_> = v
            .iter()
            .map(|s| std::ffi::CString::new(*s).unwrap())
            .collect();
        let mut ptrs: Vec<_> = owned.iter().map(|c| c.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        (owned, ptrs)
    }

    #[test]
    fn line_parses_as_protocol_event() {
        let (_a, argv) = cstrings(&[
            b"gcc",
            b"-DX=\"q\\\"",
            b"tab\there\x01",
            b"bad\xff\xfeutf8",
            "é".as_bytes(),
        ]);
        let (_b, new) = cstrings(&[b"/usr/bin/emcc", b"-c"]);
        let r = Report {
            function: "posix_spawnp",
            path: b"/usr/bin/gcc",
            argv: CArgv(argv.as_ptr()),
            action: Action::Rewrite,
            new_argv: Some(CArgv(new.as_ptr())),
            tool: Some("cc"),
            reason: Some(b"why \"not\""),
        };
        let p = Process {
            pid: 42,
            ppid: 7,
            cwd: b"/src/dir",
            time_us: 1_700_000_000_000_123,
        };
        let mut out: SmallVec<u8, 8> = SmallVec::new();
        write_line(&mut out, &r, &p);
        let line = std::str::from_utf8(out.as_slice()).unwrap();
        assert!(line.ends_with("}\n"));
        let e = Event::from_json_line(line).unwrap();
        let expected = Event {
            pid: 42,
            ppid: 7,
            cwd: "/src/dir".into(),
            function: "posix_spawnp".into(),
            path: "/usr/bin/gcc".into(),
            argv: vec![
                "gcc".into(),
                "-DX=\"q\\\"".into(),
                "tab\there\u{1}".into(),
                String::from_utf8_lossy(b"bad\xff\xfeutf8").into_owned(),
                "é".into(),
            ],
            action: Action::Rewrite,
            new_argv: Some(vec!["/usr/bin/emcc".into(), "-c".into()]),
            tool: Some("cc".into()),
            reason: Some("why \"not\"".into()),
            time: 1_700_000_000.000123,
        };
        assert_eq!(e, expected);
    }

    #[test]
    fn the_working_directory_is_read_into_the_line_escaped_and_at_any_depth() {
        // A deep directory (beyond the first 256 bytes getcwd is offered,
        // and beyond the line's stack part) whose name needs escaping. The
        // only test here that reads the working directory.
        let base = std::env::temp_dir().join(format!("pyrewrite-cwd-{}", std::process::id()));
        let mut dir = base.join("quote\"back\\slash\ttab");
        for i in 0..12 {
            dir = dir.join(format!("level-{i}-{}", "d".repeat(40)));
        }
        std::fs::create_dir_all(&dir).unwrap();
        let (_a, argv) = cstrings(&[b"true"]);
        let r = passthrough_of_true(&argv);
        let p = Process {
            pid: 1,
            ppid: 0,
            cwd: b"",
            time_us: 5,
        };
        let before = std::env::current_dir().unwrap();
        std::env::set_current_dir(&dir).unwrap();
        let mut out: SmallVec<u8, LINE_STACK> = SmallVec::new();
        write_line(&mut out, &r, &p);
        let mut plain: SmallVec<u8, LINE_STACK> = SmallVec::new();
        std::env::set_current_dir(&base).unwrap();
        write_line(&mut plain, &r, &p);
        std::env::set_current_dir(before).unwrap();
        let e = Event::from_json_line(std::str::from_utf8(out.as_slice()).unwrap()).unwrap();
        assert!(dir.to_str().unwrap().len() > 512);
        assert_eq!(e.cwd, dir.to_str().unwrap());
        let e = Event::from_json_line(std::str::from_utf8(plain.as_slice()).unwrap()).unwrap();
        assert_eq!(e.cwd, base.to_str().unwrap());
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn passthrough_line_has_null_new_argv_and_no_tool() {
        let (_a, argv) = cstrings(&[b"true"]);
        let r = passthrough_of_true(&argv);
        let p = Process {
            pid: 1,
            ppid: 0,
            cwd: b"/",
            time_us: 5,
        };
        let mut out: SmallVec<u8, 4096> = SmallVec::new();
        write_line(&mut out, &r, &p);
        let e = Event::from_json_line(std::str::from_utf8(out.as_slice()).unwrap()).unwrap();
        assert_eq!(e.new_argv, None);
        assert_eq!(e.tool, None);
        assert_eq!(e.time, 0.000005);
    }
}
