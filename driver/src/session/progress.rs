//! What the user sees while the build runs: a live status line on a terminal,
//! one plain line per compile/link/archive otherwise, nothing with `--quiet`.

use super::model::Summary;
use super::step::Step;
use std::io::Write;
use std::time::{Duration, Instant};

/// The status line is redrawn at most this often, so a fast build is not
/// slowed down by terminal writes.
const REDRAW_EVERY: Duration = Duration::from_millis(80);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Live,
    Plain,
    Quiet,
}

impl Style {
    /// `Live` when stderr is a terminal, `Plain` otherwise.
    pub fn detect(quiet: bool) -> Style {
        // SAFETY: isatty only inspects the descriptor.
        let tty = unsafe { libc::isatty(libc::STDERR_FILENO) } == 1;
        match (quiet, tty) {
            (true, _) => Style::Quiet,
            (false, true) => Style::Live,
            (false, false) => Style::Plain,
        }
    }
}

pub struct Progress {
    style: Style,
    last_draw: Option<Instant>,
    line_shown: bool,
}

/// One plain progress line: `[ 12] cc   src/foo.c`.
pub fn plain_line(number: u64, tool: &str, step: &Step) -> Option<String> {
    let what = match step {
        Step::Compile { sources } => sources.join(" "),
        Step::Link { output } | Step::Archive { output } => {
            output.clone().unwrap_or_else(|| "(default output)".into())
        }
        Step::Other => return None,
    };
    Some(format!("[{number:>3}] {tool:<4} {what}"))
}

impl Progress {
    pub fn new(style: Style) -> Progress {
        Progress {
            style,
            last_draw: None,
            line_shown: false,
        }
    }

    /// Called by the consumer after `model` has observed an event.
    pub fn on_step(&mut self, model: &Summary, tool: Option<&str>, step: &Step) {
        match self.style {
            Style::Quiet => {}
            Style::Plain => {
                let number = model.compiles + model.links + model.archives;
                if let Some(line) = plain_line(number, tool.unwrap_or("?"), step) {
                    eprintln!("{line}");
                }
            }
            Style::Live => {
                if matches!(step, Step::Other) {
                    return;
                }
                let due = self.last_draw.is_none_or(|t| t.elapsed() >= REDRAW_EVERY);
                if due {
                    self.draw(model);
                }
            }
        }
    }

    fn draw(&mut self, model: &Summary) {
        let current = model.current_source.as_deref().unwrap_or("");
        let mut err = std::io::stderr().lock();
        // `\r` + erase-line keeps the status on one line that the build's own
        // output simply scrolls past.
        let _ = write!(
            err,
            "\r\x1b[Kpyrewrite: {} compiled, {} linked  {}",
            model.compiles, model.links, current
        );
        let _ = err.flush();
        self.last_draw = Some(Instant::now());
        self.line_shown = true;
    }

    /// Clear the status line before the summary is printed.
    pub fn finish(&mut self) {
        if self.line_shown {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
            self.line_shown = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_name_the_step() {
        let compile = Step::Compile {
            sources: vec!["src/foo.c".into()],
        };
        assert_eq!(
            plain_line(12, "cc", &compile).as_deref(),
            Some("[ 12] cc   src/foo.c")
        );
        let link = Step::Link {
            output: Some("m.so".into()),
        };
        assert_eq!(
            plain_line(3, "c++", &link).as_deref(),
            Some("[  3] c++  m.so")
        );
        assert_eq!(plain_line(1, "cc", &Step::Other), None);
    }
}
