//! The contract between `libpyrewrite.so` (inside every process of a build) and
//! the `pyrewrite` driver: the environment variables that start a session, and
//! the JSON event sent for every exec.
//!
//! Both sides depend on this crate and nothing else defines these names, so a
//! field or a variable cannot drift between the writer and the reader.
//!
//! | piece | why it lives here |
//! |---|---|
//! | [`env`] names | the driver sets them, the preload reads and restores them |
//! | [`socket`] | how long the preload waits for the driver, and where it counts the events it dropped |
//! | [`preload`] | which `LD_PRELOAD` entry is a pyrewrite library: the driver replaces stale copies by its own, the preload keeps exactly one |
//! | [`Event`] | the preload writes one JSON line per exec, the driver parses it |
//! | [`Action`] | same words as `pyrewrite explain --json`, so logs and explain agree |

// No std, as pyrewrite-rules: libpyrewrite.so links this crate.
#![cfg_attr(not(test), no_std)]
extern crate alloc;

use alloc::{string::String, vec::Vec};
use serde::{Deserialize, Serialize};

/// Environment variables of a pyrewrite session.
pub mod env {
    /// Path of the target profile (JSON) used to rewrite compiler calls.
    pub const TARGET: &str = "PYREWRITE_TARGET";
    /// `rewrite` (default) or `trace` (rewrite nothing, only report).
    pub const MODE: &str = "PYREWRITE_MODE";
    /// Unix socket of a listening driver; one connection per event.
    pub const SOCKET: &str = "PYREWRITE_SOCKET";
    /// JSON-lines file that events are appended to when no socket is set.
    pub const EVENTS: &str = "PYREWRITE_EVENTS";
    /// Any non-empty value: the preload explains itself on stderr.
    pub const DEBUG: &str = "PYREWRITE_DEBUG";
    /// Absolute path of libpyrewrite.so, restored into `LD_PRELOAD` when a
    /// build step replaces the environment.
    pub const PRELOAD: &str = "PYREWRITE_PRELOAD";
    /// `1` in an exec's environment: that compiler call runs natively,
    /// unchanged and outside the session (its own children, `as` and `ld`
    /// included, are not rewritten either). For a helper the build must
    /// compile for the build machine: `CC_FOR_BUILD="env PYREWRITE_NATIVE=1 cc"`.
    /// Not a session variable: it never spreads by itself.
    pub const NATIVE: &str = "PYREWRITE_NATIVE";
    /// `off`, `on` or `verify`: overrides the profile's `fast_path` (read by
    /// the one profile loader), and tells `pyrewrite-cc` the mode a compile
    /// runs in (set by the rules on the commands they send through it).
    pub const FAST_PATH: &str = "PYREWRITE_FAST_PATH";
    /// Directory of the fast path's learned templates, for `pyrewrite-cc`.
    pub const FAST_PATH_CACHE: &str = "PYREWRITE_FAST_PATH_CACHE";
    /// The profile's `launcher` as a JSON array, for `pyrewrite-cc`.
    pub const FAST_PATH_LAUNCHER: &str = "PYREWRITE_FAST_PATH_LAUNCHER";
    /// Set by `pyrewrite-cc` for the emcc it asks: emcc's compiler wrapper
    /// (`pyrewrite-cc` again) appends the clang command to this file.
    pub const FAST_PATH_RECORD: &str = "PYREWRITE_FAST_PATH_RECORD";
    /// Every variable that must survive `env -i` and friends.
    pub const SESSION_VARS: &[&str] = &[TARGET, MODE, SOCKET, EVENTS, DEBUG, PRELOAD];
}

/// The event socket's bounds, shared by the preload (which waits at most
/// this long and counts what it drops) and the driver (which reports the
/// count).
pub mod socket {
    /// The longest one exec waits for the driver to take its event (connect
    /// and send together), in milliseconds. A driver that stopped reading
    /// (SIGSTOP, a hung reader, a full backlog) costs each process of the
    /// build at most this once: after a timeout, later events of the same
    /// process are dropped at once.
    pub const DEADLINE_MS: i64 = 1000;

    /// Appended to `PYREWRITE_SOCKET`: a file the preload appends one byte to
    /// for each event it could not deliver (its size is the count), read by
    /// the driver at the end of the session. It sits in the driver's private
    /// directory, so a driver that is gone takes it with it.
    pub const LOST_SUFFIX: &str = ".lost";

    /// Appended to `PYREWRITE_SOCKET` (else to `PYREWRITE_EVENTS`):
    /// `pyrewrite-cc` appends one line per compile it handled (`fast`,
    /// `learned`, `emcc REASON`, `verified`, `differs COMMAND`), read by the
    /// driver for its summary.
    pub const FAST_PATH_SUFFIX: &str = ".fast-path";
}

/// `LD_PRELOAD` as both sides read it. One rule, so that the driver and the
/// library never disagree on which entry is a pyrewrite library (they once
/// did: the driver compared exact paths, the library file names, and an
/// older copy at another path made a session see no exec at all).
pub mod preload {
    /// The file name of the library.
    pub const FILE_NAME: &str = "libpyrewrite.so";

    /// The non-empty entries of an `LD_PRELOAD` value (the loader separates
    /// them by spaces or colons).
    pub fn entries(value: &[u8]) -> impl Iterator<Item = &[u8]> {
        value
            .split(|&b| b == b' ' || b == b':')
            .filter(|e| !e.is_empty())
    }

    /// Whether an `LD_PRELOAD` entry is a pyrewrite library: any file named
    /// [`FILE_NAME`] in any directory (another build, an older copy), or
    /// exactly `own`, the path the session preloads (which may be renamed).
    pub fn is_pyrewrite_library(entry: &[u8], own: Option<&[u8]>) -> bool {
        let base = entry.rsplit(|&b| b == b'/').next().unwrap_or(entry);
        base == FILE_NAME.as_bytes() || own == Some(entry)
    }
}

/// What happened to an exec; the same words `pyrewrite explain --json` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Ran unchanged.
    Passthrough,
    /// Ran as `new_argv` instead.
    Rewrite,
    /// Answered by pyrewrite itself (fixed stdout and exit code), nothing ran.
    Answer,
    /// Refused with a message and an exit code, nothing ran.
    Refuse,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Passthrough => "passthrough",
            Action::Rewrite => "rewrite",
            Action::Answer => "answer",
            Action::Refuse => "refuse",
        }
    }
}

/// One exec seen by the preload, reported before the process image is replaced.
///
/// Byte strings that are not UTF-8 are converted lossily: the event log is for
/// people and tools, the exec itself always uses the exact bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub pid: i32,
    pub ppid: i32,
    pub cwd: String,
    /// The libc entry point that was called: `execve`, `posix_spawnp`, `system`, ...
    pub function: String,
    /// The program path as resolved for the exec (after PATH search).
    pub path: String,
    /// The original argv.
    pub argv: Vec<String>,
    pub action: Action,
    /// What ran instead; `None` unless `action` is `rewrite`.
    pub new_argv: Option<Vec<String>>,
    /// The tool the rules recognised (`cc`, `c++`, `ar`, `ld`, ...), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// Why the rules decided as they did (for answer/refuse, and notable rewrites).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Unix time in seconds.
    pub time: f64,
}

impl Event {
    /// One line of JSON, newline-terminated, as written to sockets and logs.
    pub fn to_json_line(&self) -> String {
        let mut s = serde_json::to_string(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Parses one line (with or without its newline), as the driver reads them.
    pub fn from_json_line(line: &str) -> Result<Event, serde_json::Error> {
        serde_json::from_str(line.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyrewrite_libraries_in_ld_preload() {
        use preload::{entries, is_pyrewrite_library as is_lib};
        let own = Some(&b"/opt/x/renamed.so"[..]);
        assert!(is_lib(b"/old/copy/libpyrewrite.so", own));
        assert!(is_lib(b"libpyrewrite.so", None));
        assert!(is_lib(b"/opt/x/renamed.so", own));
        assert!(!is_lib(b"/opt/y/renamed.so", own));
        assert!(!is_lib(b"/lib/libpyrewrite.so.old", own));
        assert!(!is_lib(b"libm.so.6", own));
        let got: Vec<&[u8]> = entries(b" a.so::b.so  c.so:").collect();
        assert_eq!(got, [&b"a.so"[..], b"b.so", b"c.so"]);
    }

    #[test]
    fn event_round_trips_and_uses_explain_words() {
        let e = Event {
            pid: 10,
            ppid: 1,
            cwd: "/src".into(),
            function: "execve".into(),
            path: "/usr/bin/gcc".into(),
            argv: vec!["gcc".into(), "-c".into(), "a.c".into()],
            action: Action::Rewrite,
            new_argv: Some(vec!["/usr/bin/emcc".into(), "-c".into(), "a.c".into()]),
            tool: Some("cc".into()),
            reason: None,
            time: 1.5,
        };
        let line = e.to_json_line();
        assert!(line.ends_with('\n'));
        assert!(line.contains("\"action\":\"rewrite\""));
        let back: Event = serde_json::from_str(line.trim_end()).unwrap();
        assert_eq!(back, e);
    }
}
