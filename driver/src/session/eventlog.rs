//! The session's JSON-lines event log: written as events arrive, read back by
//! `pyrewrite events summary`.

use super::collector::{parse_line, MAX_LINE};
use super::fsutil::{ensure_parent, temp_sibling};
use anyhow::Context;
use pyrewrite_protocol::Event;
use std::io::{BufRead, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Appends one line per event to a temporary sibling of the log, renamed into
/// place by [`LogWriter::finish`], so a log on disk is always complete.
pub struct LogWriter {
    path: PathBuf,
    tmp: PathBuf,
    out: BufWriter<std::fs::File>,
}

impl LogWriter {
    pub fn create(path: &Path) -> anyhow::Result<LogWriter> {
        ensure_parent(path)?;
        let tmp = temp_sibling(path);
        let file = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot create the event log {}", tmp.display()))?;
        Ok(LogWriter {
            path: path.to_path_buf(),
            tmp,
            out: BufWriter::new(file),
        })
    }

    pub fn append(&mut self, event: &Event) -> anyhow::Result<()> {
        self.out
            .write_all(event.to_json_line().as_bytes())
            .with_context(|| format!("cannot write the event log {}", self.tmp.display()))
    }

    pub fn finish(mut self) -> anyhow::Result<()> {
        self.out
            .flush()
            .and_then(|_| std::fs::rename(&self.tmp, &self.path))
            .with_context(|| format!("cannot write the event log {}", self.path.display()))
    }
}

impl Drop for LogWriter {
    /// A log that was never finished is removed rather than left half-written.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// Every event of a JSON-lines log. Blank lines are allowed; anything else
/// that is not an event is an error naming `file:line`: a line that is not
/// UTF-8, not JSON or cut short, and a line longer than the socket takes
/// ([`MAX_LINE`]), which is refused after reading at most that many bytes.
pub fn read_log(path: &Path) -> anyhow::Result<Vec<Event>> {
    let file = std::fs::File::open(path).with_context(|| {
        format!(
            "cannot read the event log {} (logs are written by `pyrewrite run`/`trace`, default .pyrewrite/events.jsonl)",
            path.display()
        )
    })?;
    let mut reader = std::io::BufReader::new(file);
    let mut events = Vec::new();
    let mut line = Vec::new();
    for n in 1.. {
        line.clear();
        let limit = MAX_LINE as u64 + 1;
        let read = (&mut reader)
            .take(limit)
            .read_until(b'\n', &mut line)
            .with_context(|| format!("{}:{n}: cannot read", path.display()))?;
        if read == 0 {
            break;
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        if text.len() > MAX_LINE {
            anyhow::bail!(
                "{}:{n}: not a pyrewrite event: the line is longer than {} MiB",
                path.display(),
                MAX_LINE >> 20
            );
        }
        match parse_line(text) {
            Ok(Some(event)) => events.push(event),
            Ok(None) => {}
            Err(e) => {
                return Err(anyhow::Error::new(e))
                    .with_context(|| format!("{}:{n}: not a pyrewrite event", path.display()))
            }
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::fsutil::PrivateDir;
    use pyrewrite_protocol::Action;

    fn ev(pid: i32) -> Event {
        Event {
            pid,
            path: "/bin/true".into(),
            time: 1.0,
            ..crate::test_support::event(Action::Passthrough, None, "true", None)
        }
    }

    #[test]
    fn written_log_reads_back_and_appears_only_when_finished() {
        let dir = PrivateDir::new("pyrewrite-test-").unwrap();
        let path = dir.path().join("log/events.jsonl");
        let mut w = LogWriter::create(&path).unwrap();
        w.append(&ev(1)).unwrap();
        w.append(&ev(2)).unwrap();
        assert!(!path.exists(), "log visible before finish");
        w.finish().unwrap();
        let back = read_log(&path).unwrap();
        assert_eq!(back.iter().map(|e| e.pid).collect::<Vec<_>>(), vec![1, 2]);
    }

    #[test]
    fn a_bad_line_is_named_by_file_and_line() {
        let dir = PrivateDir::new("pyrewrite-test-").unwrap();
        let path = dir.path().join("events.jsonl");
        let good = ev(1).to_json_line();
        std::fs::write(&path, format!("{good}\n{{\"pid\": oops}}\n")).unwrap();
        let err = format!("{:#}", read_log(&path).unwrap_err());
        assert!(err.contains("events.jsonl:3"), "{err}");
    }

    #[test]
    fn invalid_utf8_and_over_long_lines_are_named_not_fatal() {
        let dir = PrivateDir::new("pyrewrite-test-").unwrap();
        let path = dir.path().join("events.jsonl");
        let good = ev(1).to_json_line();
        let mut bad = good.clone().into_bytes();
        bad.splice(10..10, [0xff, 0xfe]);
        std::fs::write(&path, [good.as_bytes(), &bad].concat()).unwrap();
        let err = format!("{:#}", read_log(&path).unwrap_err());
        assert!(
            err.contains("events.jsonl:2: not a pyrewrite event"),
            "{err}"
        );

        // A good line, then one of MAX_LINE + 2 bytes: refused by its length, after
        // reading no more than MAX_LINE + 1 of it.
        let mut long = good.clone().into_bytes();
        long.extend(std::iter::repeat_n(b'x', MAX_LINE + 2));
        long.push(b'\n');
        std::fs::write(&path, long).unwrap();
        let err = format!("{:#}", read_log(&path).unwrap_err());
        assert!(
            err.contains("events.jsonl:2: not a pyrewrite event: the line is longer than 16 MiB"),
            "{err}"
        );

        // Exactly at the limit is read (and judged as JSON: here, not).
        let mut at = vec![b' '; MAX_LINE - good.len() + 1];
        at.splice(0..0, good.trim_end().bytes());
        at.push(b'\n');
        assert_eq!(at.len(), MAX_LINE + 1);
        std::fs::write(&path, [&at[..], good.as_bytes()].concat()).unwrap();
        assert_eq!(read_log(&path).unwrap().len(), 2);
    }
}
