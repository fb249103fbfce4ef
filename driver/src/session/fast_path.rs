//! What the compile fast path did in this session, from the lines
//! `pyrewrite-cc` appended to `<socket>.fast-path` (one per compile it
//! handled: `fast`, `learned`, `emcc REASON`, `verified`, `differs COMMAND`).

use std::collections::BTreeMap;
use std::path::Path;

/// The counts of one session.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FastPathReport {
    /// Compiles run by emcc's clang directly.
    pub fast: usize,
    /// Compiles that taught a new shape (emcc ran, the template proved).
    pub learned: usize,
    /// Compiles emcc ran, by reason.
    pub emcc: BTreeMap<String, usize>,
    /// Verify mode: compiles whose two objects were identical.
    pub verified: usize,
    /// Verify mode: the commands whose objects differed.
    pub differs: Vec<String>,
}

impl FastPathReport {
    /// Reads the log next to `socket` (none: nothing went through the fast
    /// path's runner).
    pub fn read(socket: &Path) -> FastPathReport {
        let mut log = socket.as_os_str().to_os_string();
        log.push(pyrewrite_protocol::socket::FAST_PATH_SUFFIX);
        let text = std::fs::read(&log).unwrap_or_default();
        Self::parse(&String::from_utf8_lossy(&text))
    }

    fn parse(text: &str) -> FastPathReport {
        let mut r = FastPathReport::default();
        for line in text.lines() {
            let (what, detail) = line.split_once(' ').unwrap_or((line, ""));
            match what {
                "fast" => r.fast += 1,
                "learned" => r.learned += 1,
                "verified" => r.verified += 1,
                "differs" => r.differs.push(detail.to_string()),
                "emcc" => *r.emcc.entry(detail.to_string()).or_default() += 1,
                _ => {}
            }
        }
        r
    }

    /// One line for the summary; `None` when no compile went through it.
    pub fn summary(&self) -> Option<String> {
        let emcc: usize = self.emcc.values().sum();
        if self.fast + self.learned + emcc + self.verified + self.differs.len() == 0 {
            return None;
        }
        let mut parts = Vec::new();
        if self.verified + self.differs.len() > 0 {
            parts.push(format!(
                "verify: {} compile(s) identical to emcc's, {} different",
                self.verified,
                self.differs.len()
            ));
        }
        if self.fast > 0 {
            parts.push(format!(
                "{} compile(s) ran emcc's clang directly",
                self.fast
            ));
        }
        if self.learned > 0 {
            parts.push(format!("{} taught it a command shape", self.learned));
        }
        if emcc > 0 {
            let why: Vec<String> = self.emcc.iter().map(|(w, n)| format!("{w}: {n}")).collect();
            parts.push(format!("{emcc} ran emcc ({})", why.join("; ")));
        }
        Some(format!("pyrewrite: fast path: {}", parts.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_kind_of_line() {
        let r = FastPathReport::parse(
            "fast\nfast\nlearned\nemcc a response file\nemcc a response file\n\
             emcc not one translation unit\nverified\ndiffers emcc -c a.c -o a.o\nnoise\n",
        );
        assert_eq!((r.fast, r.learned, r.verified), (2, 1, 1));
        assert_eq!(r.emcc.get("a response file"), Some(&2));
        assert_eq!(r.differs, ["emcc -c a.c -o a.o"]);
        let s = r.summary().unwrap();
        assert!(
            s.contains("1 compile(s) identical to emcc's, 1 different"),
            "{s}"
        );
        assert!(
            s.contains("3 ran emcc (a response file: 2; not one translation unit: 1)"),
            "{s}"
        );
        assert_eq!(FastPathReport::parse("").summary(), None);
    }
}
