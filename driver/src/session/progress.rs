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
    /// The reserved bottom row while the live status is shown.
    status_row: Option<Terminal>,
}

/// Terminal size when the status row was reserved.
#[derive(Debug, Clone, Copy)]
struct Terminal {
    rows: u16,
    cols: u16,
}

fn terminal_size() -> Option<Terminal> {
    // SAFETY: TIOCGWINSZ fills a winsize we own.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0;
    (ok && ws.ws_row >= 3 && ws.ws_col >= 20).then_some(Terminal {
        rows: ws.ws_row,
        cols: ws.ws_col,
    })
}

/// Write escape sequences in ONE write(2): the build shares the terminal and
/// writes whenever it likes; a single write is never split by another's.
fn emit(bytes: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(bytes.as_bytes());
    let _ = err.flush();
}

/// One plain progress line: `[ 12] cc   src/foo.c`.
pub fn plain_line(number: u64, tool: &str, step: &Step) -> Option<String> {
    let what = match step {
        Step::Compile { sources, .. } => sources.join(" "),
        Step::Link { output } | Step::Archive { output } => {
            output.clone().unwrap_or_else(|| "(default output)".into())
        }
        Step::Other => return None,
    };
    Some(format!("[{number:>3}] {tool:<4} {what}"))
}

/// The live status text, cut to the terminal width.
pub fn status_text(model: &Summary, cols: usize) -> String {
    let text = format!(
        "pyrewrite: {} compiled, {} linked  {}",
        model.compiles,
        model.links,
        model.current_source.as_deref().unwrap_or("")
    );
    text.chars().take(cols.saturating_sub(1)).collect()
}

impl Progress {
    /// A `Live` style falls back to `Plain` when the terminal size is unknown.
    pub fn new(style: Style) -> Progress {
        let mut p = Progress {
            style,
            last_draw: None,
            status_row: None,
        };
        if style == Style::Live {
            match terminal_size() {
                Some(t) => p.reserve_status_row(t),
                None => p.style = Style::Plain,
            }
        }
        p
    }

    /// Like apt: shrink the scroll region by one row so the build's output
    /// scrolls above, and the status lives alone on the bottom row.
    fn reserve_status_row(&mut self, t: Terminal) {
        // newline first so shrinking the region never hides the cursor's line;
        // setting a region homes the cursor, hence save/restore around it.
        emit(&format!("\n\x1b7\x1b[1;{}r\x1b8\x1b[1A", t.rows - 1));
        self.status_row = Some(t);
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
        let Some(t) = self.status_row else { return };
        emit(&format!(
            "\x1b7\x1b[{};1H\x1b[2K{}\x1b8",
            t.rows,
            status_text(model, t.cols as usize)
        ));
        self.last_draw = Some(Instant::now());
    }

    /// Give the bottom row back (clear it, full scroll region) before the
    /// summary is printed.
    pub fn finish(&mut self) {
        if let Some(t) = self.status_row.take() {
            emit(&format!(
                "\x1b7\x1b[{};1H\x1b[2K\x1b[1;{}r\x1b8",
                t.rows, t.rows
            ));
        }
    }
}

impl Drop for Progress {
    /// Never leave the terminal with a shrunken scroll region.
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_name_the_step() {
        let compile = Step::Compile {
            sources: vec!["src/foo.c".into()],
            objects: vec!["foo.o".into()],
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

    #[test]
    fn status_text_fits_the_terminal() {
        let mut model = Summary::default();
        model.compiles = 4;
        model.links = 1;
        model.current_source = Some("src/some/long/path/file.c".into());
        assert_eq!(
            status_text(&model, 200),
            "pyrewrite: 4 compiled, 1 linked  src/some/long/path/file.c"
        );
        assert_eq!(status_text(&model, 20).chars().count(), 19);
    }
}
